rule run_all:
    input:
        lambda wildcards: missing_or_all(run_grid(wildcards).outputs()),
        code=code("manifest"),
    output:
        pattern("manifest"),
    params:
        outputs=lambda wildcards: run_grid(wildcards).outputs(),
    localrule: True
    log:
        log_pattern("manifest"),
    benchmark:
        benchmark_pattern("manifest")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/manifest.py"


rule comparison_table:
    input:
        summaries=setup_paths("table_csv", table=SUMMARY_TABLE),
        code=code("comparison_table"),
    output:
        csv=report(
            pattern("table_csv", root="results/{experiment}", table="comparison"),
            caption="../report/comparison.rst",
            category="Experiments side by side",
            labels={"experiment": "{experiment}", "kind": "table"},
        ),
        md=pattern("table_md", root="results/{experiment}", table="comparison"),
    params:
        setups=lambda wildcards: list(EXPERIMENTS[wildcards.experiment].runs),
        description=lambda wildcards: EXPERIMENTS[wildcards.experiment].description,
    localrule: True
    priority: PRIORITY["table"]
    log:
        log_pattern("table_csv", root="results/{experiment}", table="comparison"),
    benchmark:
        benchmark_pattern("table_csv", root="results/{experiment}", table="comparison")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/comparison_table.py"


rule experiment_all:
    input:
        lambda wildcards: missing_or_all(experiment_outputs(wildcards.experiment)),
        code=code("manifest"),
    output:
        pattern("manifest", root="results/{experiment}"),
    params:
        outputs=lambda wildcards: experiment_outputs(wildcards.experiment),
    localrule: True
    log:
        log_pattern("manifest", root="results/{experiment}"),
    benchmark:
        benchmark_pattern("manifest", root="results/{experiment}")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/manifest.py"


rule reproduction:
    input:
        study=lambda wildcards: sum(claim_metrics(*STUDY).values(), []),
        rebias=lambda wildcards: sum(claim_metrics(*REBIAS).values(), []),
        code=code("reproduction"),
    output:
        "docs/reproduction.md",
    params:
        study=lambda wildcards: {run.split("/")[-1]: paths for run, paths in claim_metrics(*STUDY).items()},
        rebias=lambda wildcards: claim_metrics(*REBIAS),
        correlations=lambda wildcards: {run.name: run.config["bias"]["correlation"] for run in EXPERIMENTS["rebias"].runs.values()},
        recipes=lambda wildcards: {run.name: run.config["model"] for run in EXPERIMENTS["rebias"].runs.values()},
        descriptions=lambda wildcards: {run.setup: run.description for run in EXPERIMENTS["study"].runs.values()},
    localrule: True
    log:
        "results/logs/reproduction.log",
    benchmark:
        "results/benchmarks/reproduction.tsv"
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/reproduction.py"
