"""Accuracy versus augment fraction, per augment mode."""

from bgbias.logs import log_to
from bgbias.stages import fraction_tables

with log_to(snakemake.log[0]):
    output = snakemake.output
    fraction_tables(snakemake.input.metrics, snakemake.params.test_sets, output.csv, output.md, output.png)
