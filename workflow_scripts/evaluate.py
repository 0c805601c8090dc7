"""Metrics of one model on one test set."""

from bgbias.colour.evaluation import evaluate
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    evaluate(
        snakemake.input.model,
        snakemake.input.data,
        output=snakemake.output[0],
        color_pool=snakemake.params.color_pool,
        biased_digits=snakemake.params.biased_digits,
        device=snakemake.params.device,
        threads=snakemake.threads,
    )
