"""One adversarial set (FGSM or CW-L2 at one strength) against the grey LeNet."""

from bgbias.logs import log_to
from bgbias.model_stages import attack

with log_to(snakemake.log[0]):
    attack(
        snakemake.input.model,
        snakemake.input.grey,
        snakemake.output[0],
        snakemake.wildcards.attack,
        snakemake.params.adversarial,
        snakemake.params.device,
        int(snakemake.wildcards.seed),
        snakemake.threads,
    )
