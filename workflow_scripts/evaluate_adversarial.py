"""Accuracy of one grey model on the clean test split and on every adversarial test set."""

from bgbias.logs import log_to
from bgbias.model_stages import evaluate_adversarial

with log_to(snakemake.log[0]):
    evaluate_adversarial(
        snakemake.input.model,
        snakemake.input.clean,
        snakemake.input.sets,
        snakemake.output[0],
        snakemake.wildcards.model,
        snakemake.params.device,
        int(snakemake.wildcards.seed),
        snakemake.threads,
    )
