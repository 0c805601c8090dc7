"""The sample grid of every dataset of a seed."""

from bgbias.colour.plots import plot_sample_grids
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    plot_sample_grids(snakemake.input.datasets, snakemake.output)
