"""A coloured test set of one background mode."""

from pathlib import Path

from bgbias.colour.datasets import build_test
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    build_test(
        snakemake.output[0],
        raw_dir=Path(snakemake.input.mnist[0]).parent,
        dataset_config=snakemake.params.data,
        mode=snakemake.params.mode,
        seed=int(snakemake.wildcards.seed),
        threads=snakemake.threads,
    )
