"""A paired dataset: K versions of the biased images of the biased dataset on one augment mode."""

from pathlib import Path

from bgbias.logs import log_to
from bgbias.stages import build_paired

with log_to(snakemake.log[0]):
    build_paired(
        snakemake.output[0],
        snakemake.input.biased,
        Path(snakemake.input.mnist[0]).parent,
        snakemake.params.data,
        snakemake.params.mode,
        snakemake.params.fraction,
        snakemake.params.copies,
        int(snakemake.wildcards.seed),
        snakemake.threads,
    )
