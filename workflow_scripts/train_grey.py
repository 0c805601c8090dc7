"""Train the grey LeNet on grey MNIST (the model the adversarial sets attack)."""

from bgbias.logs import log_to
from bgbias.stages import run_stage

with log_to(snakemake.log[0]):
    run_stage("train_grey", snakemake, snakemake.input.data, model=snakemake.output.model, history=snakemake.output.history)
