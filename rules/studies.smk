checkpoint rebuild_missing:
    input:
        outputs=missing_or_rebuilt,
        code=code("rebuilt"),
    output:
        pattern("rebuilt", root=SCOPE_ROOT),
    wildcard_constraints:
        scope=one_of([*RUNS, *MULTI_SETUP]),
    localrule: True
    log:
        log_pattern("rebuilt", root=SCOPE_ROOT),
    benchmark:
        benchmark_pattern("rebuilt", root=SCOPE_ROOT)
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/rebuilt.py"


rule run_all:
    input:
        lambda wildcards: after_rebuild(wildcards.run),
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
            pattern("table_csv", root=EXPERIMENT_ROOT, table="comparison"),
            caption="../report/comparison.rst",
            category="Experiments side by side",
            labels={"experiment": "{experiment}", "kind": "table"},
        ),
        md=pattern("table_md", root=EXPERIMENT_ROOT, table="comparison"),
    params:
        setups=lambda wildcards: list(EXPERIMENTS[wildcards.experiment].runs),
        description=lambda wildcards: EXPERIMENTS[wildcards.experiment].description,
    localrule: True
    priority: PRIORITY["table"]
    log:
        log_pattern("table_csv", root=EXPERIMENT_ROOT, table="comparison"),
    benchmark:
        benchmark_pattern("table_csv", root=EXPERIMENT_ROOT, table="comparison")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/comparison_table.py"


rule experiment_all:
    input:
        lambda wildcards: after_rebuild(wildcards.experiment),
        code=code("manifest"),
    output:
        pattern("manifest", root=EXPERIMENT_ROOT),
    params:
        outputs=lambda wildcards: experiment_outputs(wildcards.experiment),
    localrule: True
    log:
        log_pattern("manifest", root=EXPERIMENT_ROOT),
    benchmark:
        benchmark_pattern("manifest", root=EXPERIMENT_ROOT)
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/manifest.py"


rule ablation_table:
    input:
        rows=lambda wildcards: sum(ablation_metrics(wildcards.experiment, "rows").values(), []),
        baseline=lambda wildcards: sum(ablation_metrics(wildcards.experiment, "baseline").values(), []),
        code=code("ablation_table"),
    output:
        csv=report(
            pattern("table_csv", root=EXPERIMENT_ROOT, table="ablation"),
            caption="../report/ablation.rst",
            category="Experiments side by side",
            labels={"experiment": "{experiment}", "kind": "ablation table"},
        ),
        md=pattern("table_md", root=EXPERIMENT_ROOT, table="ablation"),
        png=report(
            pattern("figure", root=EXPERIMENT_ROOT, figure="ablation"),
            caption="../report/ablation.rst",
            category="Experiments side by side",
            labels={"experiment": "{experiment}", "kind": "ablation figure"},
        ),
    params:
        rows=lambda wildcards: ablation_metrics(wildcards.experiment, "rows"),
        baseline=lambda wildcards: ablation_metrics(wildcards.experiment, "baseline"),
        models=lambda wildcards: list(EXPERIMENTS[wildcards.experiment].ablation.models),
        test_set=lambda wildcards: EXPERIMENTS[wildcards.experiment].ablation.test_set,
        description=lambda wildcards: EXPERIMENTS[wildcards.experiment].description,
        descriptions=lambda wildcards: {
            **{name: run.description for name, run in ablation_rows(wildcards.experiment).items()},
            EXPERIMENTS[wildcards.experiment].ablation.baseline: RUNS[
                EXPERIMENTS[wildcards.experiment].ablation.baseline].description,
        },
    wildcard_constraints:
        experiment=one_of(ABLATIONS),
    localrule: True
    priority: PRIORITY["table"]
    log:
        log_pattern("table_csv", root=EXPERIMENT_ROOT, table="ablation"),
    benchmark:
        benchmark_pattern("table_csv", root=EXPERIMENT_ROOT, table="ablation")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/ablation_table.py"


rule methods_table:
    input:
        runs=lambda wildcards: [path for run in EXPERIMENTS[wildcards.experiment].runs.values()
                                for path in run_metrics(run, test_sets=["pool"])],
        code=code("methods_table"),
    output:
        csv=report(
            pattern("table_csv", root=EXPERIMENT_ROOT, table="methods"),
            caption="../report/methods.rst",
            category="Methods",
            labels={"experiment": "{experiment}", "kind": "table"},
        ),
        md=pattern("table_md", root=EXPERIMENT_ROOT, table="methods"),
        png=report(
            pattern("figure", root=EXPERIMENT_ROOT, figure="methods"),
            caption="../report/methods.rst",
            category="Methods",
            labels={"experiment": "{experiment}", "kind": "figure"},
        ),
    params:
        runs=lambda wildcards: {run.name: run_metrics(run, test_sets=["pool"])
                                for run in EXPERIMENTS[wildcards.experiment].runs.values()},
        correlations=lambda wildcards: {run.name: run.config["bias"]["correlation"]
                                        for run in EXPERIMENTS[wildcards.experiment].runs.values()},
        description=lambda wildcards: EXPERIMENTS[wildcards.experiment].description,
    wildcard_constraints:
        experiment=one_of(METHOD_TABLES),
    localrule: True
    priority: PRIORITY["table"]
    log:
        log_pattern("table_csv", root=EXPERIMENT_ROOT, table="methods"),
    benchmark:
        benchmark_pattern("table_csv", root=EXPERIMENT_ROOT, table="methods")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/methods_table.py"


rule reproduction:
    input:
        columns=lambda wildcards: sum(claim_columns().values(), []),
        ablations=[pattern("table_md", root=root_of(name), table="ablation") for name in ABLATIONS],
        rebias=lambda wildcards: sum(rebias_metrics().values(), []),
        code=code("reproduction"),
    output:
        "docs/reproduction.md",
    params:
        columns=lambda wildcards: claim_columns(),
        descriptions=lambda wildcards: {run.claims_column: run.description for run in RUNS.values() if run.claims_column},
        ablations={name: pattern("table_md", root=root_of(name), table="ablation") for name in ABLATIONS},
        rebias=lambda wildcards: rebias_metrics(),
        correlations=lambda wildcards: {run.name: run.config["bias"]["correlation"] for run in EXPERIMENTS[REBIAS].runs.values()},
        recipes=lambda wildcards: {run.name: run.config["model"] for run in EXPERIMENTS[REBIAS].runs.values()},
    localrule: True
    log:
        workflow_log("reproduction"),
    benchmark:
        workflow_benchmark("reproduction")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/reproduction.py"
