"""An experiment's claims table: each claim of the original notes in each claims column of its setups."""

from bgbias.logs import log_to
from bgbias.studies.reproduction import write_claims_table

with log_to(snakemake.log[0]):
    params = snakemake.params
    write_claims_table(
        columns=params.columns,
        descriptions=params.descriptions,
        title=f"{snakemake.wildcards.experiment}: the original notes' claims",
        description=params.description,
        csv=snakemake.output.csv,
        md=snakemake.output.md,
    )
