"""Sample grid of one dataset file."""

from bgbias.logs import log_to
from bgbias.stages import plot_samples

with log_to(snakemake.log[0]):
    plot_samples(snakemake.input.data, snakemake.output[0])
