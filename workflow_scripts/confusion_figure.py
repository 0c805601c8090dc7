"""Confusion matrix of one (model, test set) as PNG and CSV."""

from bgbias.colour.plots import plot_confusion
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    wildcards = snakemake.wildcards
    plot_confusion(
        snakemake.input.metrics,
        png=snakemake.output.png,
        csv=snakemake.output.csv,
        title=f"{wildcards.model} on {wildcards.test_set} (seed {wildcards.seed})",
    )
