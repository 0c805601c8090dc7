"""Clean accuracy before and after adversarial fine-tuning, per attack strength."""

from bgbias.adversarial.plots import plot_forgetting
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    plot_forgetting(snakemake.input.table, snakemake.output[0])
