"""The attack table: success rate and perturbation size of every adversarial set."""

from bgbias.logs import log_to
from bgbias.stages import attack_tables

with log_to(snakemake.log[0]):
    attack_tables(snakemake.input.sets, snakemake.output.csv, snakemake.output.md)
