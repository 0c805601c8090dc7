"""Models x background colours accuracy table and heatmap."""

from bgbias.logs import log_to
from bgbias.stages import per_colour_tables

with log_to(snakemake.log[0]):
    params, output = snakemake.params, snakemake.output
    per_colour_tables(
        snakemake.input.metrics,
        params.color_pool,
        params.pool_test_set,
        params.colour_tests,
        output.csv,
        output.md,
        output.png,
    )
