"""Train the base LeNet on the biased dataset."""

from bgbias.colour.base_model import train_base
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    train_base(
        snakemake.input.data,
        model=snakemake.output.model,
        history=snakemake.output.history,
        model_name=snakemake.params.model,
        train_config=snakemake.params.train,
        device=snakemake.params.device,
        seed=int(snakemake.wildcards.seed),
        threads=snakemake.threads,
    )
