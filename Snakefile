"""bgbias: background-bias experiments on coloured MNIST.

Run `snakemake --cores all results/all`; see README.md for the targets.
"""

from snakemake.utils import min_version

min_version("8.0")


configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/train.smk"
include: "rules/attack.smk"
include: "rules/evaluate.smk"
include: "rules/figures.smk"


rule all:
    input:
        targets=GRID.targets(),
        code=code("manifest"),
    output:
        GRID.path("manifest"),
    log:
        GRID.log("manifest"),
    benchmark:
        GRID.benchmark("manifest")
    conda:
        "environment.yml"
    script:
        "workflow_scripts/manifest.py"
