"""Paired fine-tuning of the base model on one paired dataset."""

from bgbias.logs import log_to
from bgbias.model_stages import paired_train

with log_to(snakemake.log[0]):
    paired_train(
        snakemake.input.base,
        snakemake.input.data,
        snakemake.output.model,
        snakemake.output.history,
        snakemake.params.paired,
        snakemake.params.device,
        int(snakemake.wildcards.seed),
        snakemake.threads,
    )
