"""docs/reproduction.md from the tables and metrics of a run."""

from bgbias.colour.reproduction import write_reproduction
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    inputs = snakemake.input
    write_reproduction(
        snakemake.output[0],
        config=snakemake.params.config,
        accuracy_md=inputs.accuracy,
        per_colour_md=inputs.per_colour,
        fractions_md=inputs.fractions,
        pool_metrics=inputs.metrics,
    )
