"""Metrics of one model on every test set of its run (the model loaded once)."""

from bgbias.logs import log_to
from bgbias.stages import run_stage

with log_to(snakemake.log[0]):
    run_stage("evaluate", snakemake, snakemake.input.model, snakemake.input.test_sets, outputs=snakemake.output)
