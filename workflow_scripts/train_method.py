"""Train one method's model on the biased dataset (every method but erm and paired, which have rules of their own)."""

from bgbias.logs import log_to
from bgbias.methods.stage import train_method

with log_to(snakemake.log[0]):
    train_method(
        snakemake.input.data,
        model=snakemake.output.model,
        history=snakemake.output.history,
        method=snakemake.wildcards.method,
        settings=snakemake.params.settings,
        train_config=snakemake.params.train,
        model_name=snakemake.params.model,
        device=snakemake.params.device,
        seed=int(snakemake.wildcards.seed),
        threads=snakemake.threads,
    )
