# One figure job per (seed, model) for the confusion matrices, per seed for the training curves and for the sample
# grids: each draws every figure of its kind at once (one Python start, one matplotlib import). What a job draws
# depends on its run's grid, so each run has its own rules (<kind>_<run>).
for run in RUNS.values():

    rule:
        name:
            rule_name("confusion_figures", run)
        input:
            metrics=expand(pattern("metrics", run=run.name, seed="{{seed}}", model="{{model}}"), test_set=run.grid.test_sets),
            code=code("confusion_figures"),
        output:
            png=[
                report(
                    pattern("confusion_png", run=run.name, test_set=test_set),
                    caption="../report/confusion.rst",
                    category="Confusion matrices",
                    subcategory=f"{run.name}: {{model}}",
                    labels={"run": run.name, "model": "{model}", "test set": test_set, "seed": "{seed}"},
                )
                for test_set in run.grid.test_sets
            ],
            csv=expand(pattern("confusion_csv", run=run.name, seed="{{seed}}", model="{{model}}"), test_set=run.grid.test_sets),
        params:
            titles=figure_titles("{model} on {name} (seed {seed})", list(run.grid.test_sets)),
        resources:
            **cpu_job(),
        group:
            "evaluation"
        priority: PRIORITY["figure"]
        log:
            log_pattern("confusion_png", run=run.name, test_set="all"),
        benchmark:
            benchmark_pattern("confusion_png", run=run.name, test_set="all")
        conda:
            "../environment.yml"
        script:
            "../workflow_scripts/confusion_figures.py"

    rule:
        name:
            rule_name("training_curves", run)
        input:
            histories=expand(pattern("history", run=run.name, seed="{{seed}}"), model=run.grid.models),
            code=code("training_curves"),
        output:
            [
                report(
                    pattern("training_curve", run=run.name, model=model),
                    caption="../report/training.rst",
                    category="Training curves",
                    labels={"run": run.name, "model": model, "seed": "{seed}"},
                )
                for model in run.grid.models
            ],
        params:
            titles=figure_titles("{name} (seed {seed})", run.grid.models),
        localrule: True
        priority: PRIORITY["figure"]
        log:
            log_pattern("training_curve", run=run.name, model="all"),
        benchmark:
            benchmark_pattern("training_curve", run=run.name, model="all")
        conda:
            "../environment.yml"
        script:
            "../workflow_scripts/training_curves.py"

    rule:
        name:
            rule_name("sample_grids", run)
        input:
            datasets=expand(pattern("dataset", run=run.name, seed="{{seed}}"), dataset=run.grid.datasets),
            code=code("sample_grids"),
        output:
            [
                report(
                    pattern("samples", run=run.name, dataset=dataset),
                    caption="../report/samples.rst",
                    category="Datasets",
                    labels={"run": run.name, "dataset": dataset, "seed": "{seed}"},
                )
                for dataset in run.grid.datasets
            ],
        localrule: True
        priority: PRIORITY["figure"]
        log:
            log_pattern("samples", run=run.name, dataset="all"),
        benchmark:
            benchmark_pattern("samples", run=run.name, dataset="all")
        conda:
            "../environment.yml"
        script:
            "../workflow_scripts/sample_grids.py"


rule ranking_figure:
    input:
        ranking=pattern("ranking"),
        biased=pattern("biased"),
        code=code("ranking_figure"),
    output:
        report(
            pattern("ranking_figure"),
            caption="../report/ranking.rst",
            category="Which images to mark",
            labels={"run": "{run}", "strategy": "{strategy}", "seed": "{seed}"},
        ),
    localrule: True
    priority: PRIORITY["figure"]
    log:
        log_pattern("ranking_figure"),
    benchmark:
        benchmark_pattern("ranking_figure")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/ranking_figure.py"
