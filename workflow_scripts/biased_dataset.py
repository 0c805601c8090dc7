"""The biased train/dev dataset."""

from pathlib import Path

from bgbias.logs import log_to
from bgbias.stages import run_stage

with log_to(snakemake.log[0]):
    run_stage("biased_dataset", snakemake, snakemake.output[0], raw_dir=Path(snakemake.input.mnist[0]).parent)
