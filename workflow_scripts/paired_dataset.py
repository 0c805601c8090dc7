"""A paired dataset: K versions of the biased images of the biased dataset on one augment mode."""

from pathlib import Path

from bgbias.colour.pairs import build_paired
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    params = snakemake.params
    build_paired(
        snakemake.output[0],
        biased=snakemake.input.biased,
        raw_dir=Path(snakemake.input.mnist[0]).parent,
        dataset_config=params.data,
        mode=params.mode,
        fraction=params.fraction,
        copies=params.copies,
        selection=params.selection,
        unbiased_pairs=params.unbiased_pairs,
        ranking=snakemake.input.ranking or None,
        seed=int(snakemake.wildcards.seed),
        threads=snakemake.threads,
    )
