"""results/all: the list of every output of the run."""

from bgbias.logs import log_to
from bgbias.stages import write_manifest

with log_to(snakemake.log[0]):
    write_manifest(snakemake.output[0], snakemake.input)
