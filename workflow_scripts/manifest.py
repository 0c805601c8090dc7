"""The manifest of a run: every output, one per line with its size."""

from bgbias.logs import log_to
from bgbias.storage import write_manifest

with log_to(snakemake.log[0]):
    write_manifest(snakemake.output[0], snakemake.params.outputs)
