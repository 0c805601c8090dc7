"""The training images a selection strategy ranks first and last."""

from bgbias.colour.plots import plot_ranking
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    plot_ranking(snakemake.input.ranking, snakemake.input.biased, snakemake.output[0])
