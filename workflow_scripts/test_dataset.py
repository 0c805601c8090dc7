"""A coloured test set of one background mode."""

from pathlib import Path

from bgbias.logs import log_to
from bgbias.stages import run_stage

with log_to(snakemake.log[0]):
    run_stage("test_dataset", snakemake, snakemake.output[0], raw_dir=Path(snakemake.input.mnist[0]).parent,
              mode=snakemake.params.mode)
