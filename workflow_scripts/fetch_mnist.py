"""Place and verify the four MNIST files."""

from pathlib import Path

from bgbias.logs import log_to
from bgbias.mnist import fetch

with log_to(snakemake.log[0]):
    fetch(Path(snakemake.output[0]).parent, snakemake.config["mnist"]["mirror"], snakemake.params.md5)
