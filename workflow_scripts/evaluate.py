"""Metrics of one model on every test set of its run (the model loaded once)."""

from bgbias.colour.evaluation import evaluate
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    evaluate(
        snakemake.input.model,
        snakemake.input.test_sets,
        outputs=snakemake.output,
        color_pool=snakemake.params.color_pool,
        biased_digits=snakemake.params.biased_digits,
        device=snakemake.params.device,
        threads=snakemake.threads,
    )
