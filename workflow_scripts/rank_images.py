"""Rank the biased images of the biased dataset by a selection strategy, from the base model."""

from pathlib import Path

from bgbias.logs import log_to
from bgbias.stages import run_stage

with log_to(snakemake.log[0]):
    run_stage(
        "rank_images", snakemake, snakemake.input.base, snakemake.input.biased,
        raw_dir=Path(snakemake.input.mnist[0]).parent, output=snakemake.output[0], strategy=snakemake.wildcards.strategy,
    )
