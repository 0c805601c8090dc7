"""bgbias: background-bias experiments on coloured MNIST.

`snakemake --cores all results/all` runs the default experiment (`initial`); `results/<experiment>/all` runs a
named experiment of experiments/; `results/reproduction.md` rebuilds the claims document. See README.md.
"""

from snakemake.utils import min_version

min_version("8.0")


configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"


rule all:
    input:
        lambda wildcards: after_rebuild(DEFAULT_RUN),
        code=code("manifest"),
    output:
        pattern("manifest", root=RESULTS),
    params:
        outputs=lambda wildcards: RUNS[DEFAULT_RUN].grid.outputs(),
    localrule: True
    log:
        workflow_log("all"),
    benchmark:
        workflow_benchmark("all")
    conda:
        "environment.yml"
    script:
        "workflow_scripts/manifest.py"


include: "rules/data.smk"
include: "rules/train.smk"
include: "rules/attack.smk"
include: "rules/evaluate.smk"
include: "rules/figures.smk"
include: "rules/studies.smk"
