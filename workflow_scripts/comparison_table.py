"""An experiment's setups side by side: every metric over the seeds, one column per setup."""

from bgbias.studies.comparison import comparison_tables
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    params = snakemake.params
    comparison_tables(
        snakemake.input.summaries,
        setups=params.setups,
        title=f"{snakemake.wildcards.experiment}: setups side by side",
        description=params.description,
        csv=snakemake.output.csv,
        md=snakemake.output.md,
    )
