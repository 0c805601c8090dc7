"""Paired fine-tuning of the base model on one paired dataset."""

from bgbias.logs import log_to
from bgbias.stages import run_stage

with log_to(snakemake.log[0]):
    run_stage(
        "paired_train", snakemake, snakemake.input.base, snakemake.input.data, model=snakemake.output.model,
        history=snakemake.output.history,
    )
