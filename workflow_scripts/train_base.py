"""Train the base LeNet on the biased dataset."""

from bgbias.logs import log_to
from bgbias.model_stages import train_base

with log_to(snakemake.log[0]):
    train_base(
        snakemake.input.data,
        snakemake.output.model,
        snakemake.output.history,
        snakemake.params.train,
        snakemake.params.device,
        int(snakemake.wildcards.seed),
        snakemake.threads,
    )
