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
        summaries=setup_paths("table_csv", table="summary"),
        code=code("comparison_table"),
    output:
        **table_output("comparison"),
    params:
        setups=lambda wildcards: list(EXPERIMENTS[wildcards.experiment].runs),
        description=lambda wildcards: EXPERIMENTS[wildcards.experiment].description,
    localrule: True
    priority: PRIORITY["table"]
    log:
        table_log("comparison"),
    benchmark:
        table_benchmark("comparison")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/comparison_table.py"


rule claims_table:
    input:
        columns=lambda wildcards: sum(claim_columns(wildcards.experiment).values(), []),
        code=code("claims_table"),
    output:
        **table_output("claims"),
    params:
        columns=lambda wildcards: claim_columns(wildcards.experiment),
        descriptions=lambda wildcards: {run.claims_column: run.description
                                        for run in EXPERIMENTS[wildcards.experiment].runs.values()},
        description=lambda wildcards: EXPERIMENTS[wildcards.experiment].description,
    wildcard_constraints:
        experiment=one_of(experiments_with("claims")),
    localrule: True
    priority: PRIORITY["table"]
    log:
        table_log("claims"),
    benchmark:
        table_benchmark("claims")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/claims_table.py"


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
        **table_output("ablation"),
        png=figure_output("ablation"),
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
        experiment=one_of(experiments_with("ablation")),
    localrule: True
    priority: PRIORITY["table"]
    log:
        table_log("ablation"),
    benchmark:
        table_benchmark("ablation")
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
        **table_output("methods"),
        png=figure_output("methods"),
    params:
        runs=lambda wildcards: {run.name: run_metrics(run, test_sets=["pool"])
                                for run in EXPERIMENTS[wildcards.experiment].runs.values()},
        correlations=lambda wildcards: {run.name: run.config["bias"]["correlation"]
                                        for run in EXPERIMENTS[wildcards.experiment].runs.values()},
        description=lambda wildcards: EXPERIMENTS[wildcards.experiment].description,
    wildcard_constraints:
        experiment=one_of(experiments_with("methods")),
    localrule: True
    priority: PRIORITY["table"]
    log:
        table_log("methods"),
    benchmark:
        table_benchmark("methods")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/methods_table.py"


rule reproduction:
    input:
        columns=lambda wildcards: sum(claim_columns().values(), []),
        ablations=[pattern("table_md", root=root_of(name), table="ablation") for name in ABLATIONS],
        published=lambda wildcards: [path for runs in published_metrics().values() for paths in runs.values()
                                     for path in paths],
        code=code("reproduction"),
    output:
        REPRODUCTION,
    params:
        columns=lambda wildcards: claim_columns(),
        descriptions=lambda wildcards: {run.claims_column: run.description for run in RUNS.values() if run.claims_column},
        beside_original_run=[run.claims_column for run in RUNS.values() if run.claims_column and run.beside_original_run],
        ablations={name: pattern("table_md", root=root_of(name), table="ablation") for name in ABLATIONS},
        published=lambda wildcards: published_metrics(),
        correlations={run.name: run.config["bias"]["correlation"] for runs in PUBLISHED_RUNS.values() for run in runs},
        recipes={run.name: run.config["model"] for runs in PUBLISHED_RUNS.values() for run in runs},
    localrule: True
    log:
        workflow_log("reproduction"),
    benchmark:
        workflow_benchmark("reproduction")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/reproduction.py"
