"""Metrics of one model on one test set."""

from bgbias.logs import log_to
from bgbias.model_stages import evaluate

with log_to(snakemake.log[0]):
    evaluate(
        snakemake.input.model,
        snakemake.input.data,
        snakemake.output[0],
        snakemake.params.color_pool,
        snakemake.params.device,
        snakemake.threads,
    )
