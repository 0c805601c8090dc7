"""An ablation experiment's table and figure: each setup's per-seed difference to the baseline run."""

from bgbias.studies.reproduction import write_ablation
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    params = snakemake.params
    write_ablation(
        rows=params.rows,
        baseline=params.baseline,
        models=params.models,
        test_set=params.test_set,
        title=f"{snakemake.wildcards.experiment}: differences to {next(iter(params.baseline))}",
        description=params.description,
        descriptions=params.descriptions,
        csv=snakemake.output.csv,
        md=snakemake.output.md,
        png=snakemake.output.png,
    )
