"""The attack table: success rate and perturbation size of every adversarial set."""

from bgbias.adversarial.tables import attack_tables
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    attack_tables(snakemake.input.sets, csv=snakemake.output.csv, md=snakemake.output.md)
