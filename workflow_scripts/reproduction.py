"""docs/reproduction.md: the original notes' claims in every claims column, the ablations, and ReBias's protocol."""

from bgbias.colour.reproduction import write_reproduction
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    params = snakemake.params
    write_reproduction(
        snakemake.output[0],
        columns=params.columns,
        descriptions=params.descriptions,
        ablations=params.ablations,
        rebias=params.rebias,
        correlations=params.correlations,
        recipes=params.recipes,
    )
