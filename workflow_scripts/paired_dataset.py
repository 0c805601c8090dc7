"""A paired dataset: K versions of the biased images of the biased dataset on one augment mode."""

from pathlib import Path

from bgbias.logs import log_to
from bgbias.stages import run_stage

with log_to(snakemake.log[0]):
    params = snakemake.params
    run_stage(
        "paired_dataset", snakemake, snakemake.output[0], biased=snakemake.input.biased,
        raw_dir=Path(snakemake.input.mnist[0]).parent, mode=params.mode, fraction=params.fraction,
        selection=params.selection, ranking=snakemake.input.ranking or None,
    )
