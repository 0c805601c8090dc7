"""The forgetting table: every grey / fine-tuned model on clean and adversarial test sets."""

from bgbias.adversarial.tables import forgetting_tables
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    forgetting_tables(snakemake.input.evaluations, csv=snakemake.output.csv, md=snakemake.output.md)
