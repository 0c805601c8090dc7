"""Fine-tune the grey LeNet on one adversarial training set."""

from bgbias.adversarial.forgetting import fine_tune_adversarial
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    fine_tune_adversarial(
        snakemake.input.base,
        snakemake.input.data,
        model=snakemake.output.model,
        history=snakemake.output.history,
        fine_tune_config=snakemake.params.fine_tune,
        device=snakemake.params.device,
        seed=int(snakemake.wildcards.seed),
        threads=snakemake.threads,
    )
