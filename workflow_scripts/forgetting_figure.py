"""Clean accuracy before and after adversarial fine-tuning, per attack strength."""

from bgbias.logs import log_to
from bgbias.stages import plot_forgetting

with log_to(snakemake.log[0]):
    plot_forgetting(snakemake.input.table, snakemake.output[0])
