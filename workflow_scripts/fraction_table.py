"""Accuracy versus augment fraction, per augment mode."""

from bgbias.colour.tables import fraction_tables
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    output = snakemake.output
    fraction_tables(snakemake.input.metrics, snakemake.params.test_sets, csv=output.csv, md=output.md, png=output.png)
