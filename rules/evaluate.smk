# One evaluation job per model: it loads the model once and writes one metrics JSON per test set of its run.
# The test sets differ between runs, so each run has its own rule (evaluate_<run>).
for run in RUNS.values():

    rule:
        name:
            rule_name("evaluate", run)
        input:
            model=pattern("model", run=run.name),
            test_sets=expand(pattern("test_set", run=run.name, seed="{{seed}}"), test_set=run.grid.test_sets),
            code=code("evaluate"),
        output:
            expand(pattern("metrics", run=run.name, seed="{{seed}}", model="{{model}}"), test_set=run.grid.test_sets),
        params:
            settings=STAGES["evaluate"].settings(run.config, {}),
        threads: config["threads"]
        resources:
            **cpu_job(),
            mem_mb=1500,
        group:
            "evaluation"
        priority: PRIORITY["evaluate"]
        log:
            log_pattern("metrics", run=run.name, test_set="all"),
        benchmark:
            benchmark_pattern("metrics", run=run.name, test_set="all")
        conda:
            "../environment.yml"
        script:
            "../workflow_scripts/evaluate.py"


rule accuracy_table:
    input:
        metrics=run_paths("metrics", seed="seeds", model="models", test_set="test_sets"),
        code=code("accuracy_table"),
    output:
        **table_output("accuracy"),
        png=figure_output("accuracy"),
    params:
        test_sets=lambda wildcards: list(run_grid(wildcards).test_sets),
    localrule: True
    priority: PRIORITY["table"]
    log:
        table_log("accuracy"),
    benchmark:
        table_benchmark("accuracy")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/accuracy_table.py"


rule per_colour_table:
    input:
        metrics=run_paths("metrics", seed="seeds", model="models", test_set="per_colour_test_sets"),
        code=code("per_colour_table"),
    output:
        **table_output("per_colour"),
        png=figure_output("per_colour"),
    params:
        color_pool=lambda wildcards: RUNS[wildcards.run].config["color_pool"],
        pool_test_set=lambda wildcards: run_grid(wildcards).pool_test_set,
        colour_tests=lambda wildcards: run_grid(wildcards).colour_tests,
    localrule: True
    priority: PRIORITY["table"]
    log:
        table_log("per_colour"),
    benchmark:
        table_benchmark("per_colour")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/per_colour_table.py"


rule fraction_table:
    input:
        metrics=run_paths("metrics", seed="seeds", model="models", test_set="test_sets"),
        code=code("fraction_table"),
    output:
        **table_output("fractions"),
        png=figure_output("fractions"),
    params:
        test_sets=lambda wildcards: list(run_grid(wildcards).test_sets),
    localrule: True
    priority: PRIORITY["table"]
    log:
        table_log("fractions"),
    benchmark:
        table_benchmark("fractions")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/fraction_table.py"


rule summary_table:
    input:
        metrics=run_paths("metrics", seed="seeds", model="models", test_set="test_sets"),
        code=code("summary_table"),
    output:
        **table_output("summary"),
    params:
        title=lambda wildcards: f"{wildcards.run}: every metric over the seeds",
    localrule: True
    priority: PRIORITY["table"]
    log:
        table_log("summary"),
    benchmark:
        table_benchmark("summary")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/summary_table.py"
