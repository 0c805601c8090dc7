"""A coloured test set of one background mode."""

from pathlib import Path

from bgbias.logs import log_to
from bgbias.stages import build_test

with log_to(snakemake.log[0]):
    build_test(
        snakemake.output[0],
        Path(snakemake.input.mnist[0]).parent,
        snakemake.params.data,
        snakemake.params.mode,
        int(snakemake.wildcards.seed),
        snakemake.threads,
    )
