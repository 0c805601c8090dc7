"""Train the grey LeNet on grey MNIST (the model the adversarial sets attack)."""

from bgbias.adversarial.forgetting import train_grey
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    train_grey(
        snakemake.input.data,
        model=snakemake.output.model,
        history=snakemake.output.history,
        train_config=snakemake.params.train,
        device=snakemake.params.device,
        seed=int(snakemake.wildcards.seed),
        threads=snakemake.threads,
    )
