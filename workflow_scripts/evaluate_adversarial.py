"""Accuracy of one grey model on the clean test split and on every adversarial test set."""

from bgbias.adversarial.forgetting import evaluate_adversarial
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    evaluate_adversarial(
        snakemake.input.model,
        snakemake.input.clean,
        snakemake.input.sets,
        output=snakemake.output[0],
        name=snakemake.wildcards.grey_model,
        device=snakemake.params.device,
        seed=int(snakemake.wildcards.seed),
        threads=snakemake.threads,
    )
