"""Fine-tune the grey LeNet on one adversarial training set."""

from bgbias.logs import log_to
from bgbias.model_stages import fine_tune_adversarial

with log_to(snakemake.log[0]):
    fine_tune_adversarial(
        snakemake.input.base,
        snakemake.input.data,
        snakemake.output.model,
        snakemake.output.history,
        snakemake.params.fine_tune,
        snakemake.params.device,
        int(snakemake.wildcards.seed),
        snakemake.threads,
    )
