"""Confusion matrix of one (model, test set) as PNG and CSV."""

from bgbias.logs import log_to
from bgbias.stages import plot_confusion

with log_to(snakemake.log[0]):
    wildcards = snakemake.wildcards
    plot_confusion(
        snakemake.input.metrics,
        snakemake.output.png,
        snakemake.output.csv,
        f"{wildcards.model} on {wildcards.test_set} (seed {wildcards.seed})",
    )
