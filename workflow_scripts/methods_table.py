"""An experiment's methods table and figure: every method of every run on the pool test set."""

from bgbias.logs import log_to
from bgbias.methods.table import methods_tables

with log_to(snakemake.log[0]):
    params = snakemake.params
    methods_tables(
        params.runs,
        correlations=params.correlations,
        title=f"{snakemake.wildcards.experiment}: methods",
        description=params.description,
        csv=snakemake.output.csv,
        md=snakemake.output.md,
        png=snakemake.output.png,
    )
