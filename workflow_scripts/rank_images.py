"""Rank the biased images of the biased dataset by a selection strategy, from the base model."""

from pathlib import Path

from bgbias.colour.selection import rank_images
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    rank_images(
        snakemake.input.base,
        snakemake.input.biased,
        raw_dir=Path(snakemake.input.mnist[0]).parent,
        output=snakemake.output[0],
        strategy=snakemake.wildcards.strategy,
        selection_config=snakemake.params.selection,
        seed=int(snakemake.wildcards.seed),
        device=snakemake.params.device,
        threads=snakemake.threads,
    )
