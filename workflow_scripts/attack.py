"""One adversarial set (one attack at one strength) against the grey LeNet."""

from bgbias.logs import log_to
from bgbias.stages import run_stage

with log_to(snakemake.log[0]):
    run_stage("attack", snakemake, snakemake.input.model, snakemake.input.grey, output=snakemake.output[0])
