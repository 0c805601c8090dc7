"""Grey MNIST for the adversarial experiments."""

from pathlib import Path

from bgbias.logs import log_to
from bgbias.stages import build_grey

with log_to(snakemake.log[0]):
    build_grey(
        snakemake.output[0],
        Path(snakemake.input.mnist[0]).parent,
        snakemake.params.data,
        int(snakemake.wildcards.seed),
    )
