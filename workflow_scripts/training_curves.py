"""The training curve of every model of a seed."""

from bgbias.figures import plot_trainings
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    plot_trainings(snakemake.input.histories, pngs=snakemake.output, titles=snakemake.params.titles)
