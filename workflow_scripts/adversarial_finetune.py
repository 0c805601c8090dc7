"""Fine-tune the grey LeNet on one adversarial training set."""

from bgbias.logs import log_to
from bgbias.stages import run_stage

with log_to(snakemake.log[0]):
    run_stage(
        "adversarial_finetune", snakemake, snakemake.input.base, snakemake.input.data, model=snakemake.output.model,
        history=snakemake.output.history,
    )
