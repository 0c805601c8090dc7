"""Sample grid of one dataset file."""

from bgbias.colour.plots import plot_samples
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    plot_samples(snakemake.input.data, snakemake.output[0])
