"""Train one method's model on the biased dataset (every method but erm and paired, which have rules of their own)."""

from bgbias.logs import log_to
from bgbias.stages import run_stage

with log_to(snakemake.log[0]):
    run_stage("train_method", snakemake, snakemake.input.data, model=snakemake.output.model, history=snakemake.output.history)
