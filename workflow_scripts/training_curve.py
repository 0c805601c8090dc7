"""Training curve of one model."""

from bgbias.figures import plot_training
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    wildcards = snakemake.wildcards
    plot_training(snakemake.input.history, snakemake.output[0], f"{wildcards.model} (seed {wildcards.seed})")
