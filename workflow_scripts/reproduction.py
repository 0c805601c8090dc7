"""results/reproduction.md: the original notes' claims in every claims column, the ablations, and ReBias's protocol."""

from bgbias.studies.reproduction import write_reproduction
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    params = snakemake.params
    write_reproduction(
        snakemake.output[0],
        columns=params.columns,
        descriptions=params.descriptions,
        beside_original_run=params.beside_original_run,
        ablations=params.ablations,
        published=params.published,
        correlations=params.correlations,
        recipes=params.recipes,
    )
