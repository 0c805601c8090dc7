"""Every model x test set x metric of a run over its seeds: mean, std, n, 95 % interval."""

from bgbias.colour.tables import summary_tables
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    summary_tables(snakemake.input.metrics, title=snakemake.params.title, csv=snakemake.output.csv, md=snakemake.output.md)
