"""One adversarial set (one attack at one strength) against the grey LeNet."""

from bgbias.adversarial.sets import attack
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    attack(
        snakemake.input.model,
        snakemake.input.grey,
        output=snakemake.output[0],
        name=snakemake.wildcards.attack,
        attack_config=snakemake.params.adversarial,
        device=snakemake.params.device,
        seed=int(snakemake.wildcards.seed),
        threads=snakemake.threads,
    )
