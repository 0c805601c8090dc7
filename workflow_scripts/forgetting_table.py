"""The forgetting table: every grey / fine-tuned model on clean and adversarial test sets."""

from bgbias.logs import log_to
from bgbias.stages import forgetting_tables

with log_to(snakemake.log[0]):
    forgetting_tables(snakemake.input.evaluations, snakemake.output.csv, snakemake.output.md)
