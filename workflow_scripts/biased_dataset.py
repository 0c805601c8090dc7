"""The biased train/dev dataset."""

from pathlib import Path

from bgbias.logs import log_to
from bgbias.stages import build_biased

with log_to(snakemake.log[0]):
    build_biased(
        snakemake.output[0],
        Path(snakemake.input.mnist[0]).parent,
        snakemake.params.data,
        snakemake.params.bias,
        int(snakemake.wildcards.seed),
        snakemake.threads,
    )
