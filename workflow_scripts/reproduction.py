"""docs/reproduction.md from the tables and metrics of a run."""

from bgbias.logs import log_to
from bgbias.reproduction import write_reproduction

with log_to(snakemake.log[0]):
    inputs = snakemake.input
    write_reproduction(
        snakemake.output[0], snakemake.params.config, inputs.accuracy, inputs.per_colour, inputs.fractions, inputs.metrics
    )
