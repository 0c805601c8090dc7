"""Models x test sets accuracy table and heatmap."""

from bgbias.colour.tables import accuracy_tables
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    output = snakemake.output
    accuracy_tables(snakemake.input.metrics, snakemake.params.test_sets, csv=output.csv, md=output.md, png=output.png)
