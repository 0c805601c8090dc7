"""The biased train/dev dataset."""

from pathlib import Path

from bgbias.colour.datasets import build_biased
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    build_biased(
        snakemake.output[0],
        raw_dir=Path(snakemake.input.mnist[0]).parent,
        dataset_config=snakemake.params.data,
        bias_config=snakemake.params.bias,
        seed=int(snakemake.wildcards.seed),
        threads=snakemake.threads,
    )
