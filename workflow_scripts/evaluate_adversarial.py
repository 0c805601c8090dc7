"""Accuracy of one grey model on the clean test split and on every adversarial test set."""

from bgbias.logs import log_to
from bgbias.stages import run_stage

with log_to(snakemake.log[0]):
    run_stage(
        "evaluate_adversarial", snakemake, snakemake.input.model, snakemake.input.clean, snakemake.input.sets,
        output=snakemake.output[0],
    )
