"""Paired fine-tuning of the base model on one paired dataset."""

from bgbias.colour.paired_training import paired_train
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    paired_train(
        snakemake.input.base,
        snakemake.input.data,
        model=snakemake.output.model,
        history=snakemake.output.history,
        paired_config=snakemake.params.paired,
        device=snakemake.params.device,
        seed=int(snakemake.wildcards.seed),
        threads=snakemake.threads,
    )
