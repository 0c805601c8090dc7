"""Grey MNIST for the adversarial experiments."""

from pathlib import Path

from bgbias.adversarial.grey import build_grey
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    build_grey(
        snakemake.output[0],
        raw_dir=Path(snakemake.input.mnist[0]).parent,
        dataset_config=snakemake.params.data,
        seed=int(snakemake.wildcards.seed),
    )
