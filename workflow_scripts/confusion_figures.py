"""The confusion matrices of one model on every test set of its run, as PNG and CSV."""

from bgbias.colour.plots import plot_confusions
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    output = snakemake.output
    plot_confusions(snakemake.input.metrics, pngs=output.png, csvs=output.csv, titles=snakemake.params.titles)
