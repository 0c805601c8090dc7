"""Models x test sets accuracy table and heatmap."""

from bgbias.logs import log_to
from bgbias.stages import accuracy_tables

with log_to(snakemake.log[0]):
    output = snakemake.output
    accuracy_tables(snakemake.input.metrics, snakemake.params.test_sets, output.csv, output.md, output.png)
