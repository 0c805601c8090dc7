"""Models x background colours accuracy table and heatmap."""

from bgbias.colour.tables import per_colour_tables
from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    params, output = snakemake.params, snakemake.output
    per_colour_tables(
        snakemake.input.metrics,
        color_pool=params.color_pool,
        pool_test_set=params.pool_test_set,
        colour_tests=params.colour_tests,
        csv=output.csv,
        md=output.md,
        png=output.png,
    )
