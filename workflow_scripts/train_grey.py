"""Train the grey LeNet on grey MNIST (the model the adversarial sets attack)."""

from bgbias.logs import log_to
from bgbias.model_stages import train_grey

with log_to(snakemake.log[0]):
    train_grey(
        snakemake.input.data,
        snakemake.output.model,
        snakemake.output.history,
        snakemake.params.train,
        snakemake.params.device,
        int(snakemake.wildcards.seed),
        snakemake.threads,
    )
