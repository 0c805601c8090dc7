rule confusion_figure:
    input:
        metrics=pattern("metrics"),
        code=code("confusion_figure"),
    output:
        png=report(
            pattern("confusion_png"),
            caption="../report/confusion.rst",
            category="Confusion matrices",
            subcategory="{model}",
            labels={"model": "{model}", "test set": "{test_set}", "seed": "{seed}"},
        ),
        csv=pattern("confusion_csv"),
    log:
        log_pattern("confusion_png"),
    benchmark:
        benchmark_pattern("confusion_png")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/confusion_figure.py"


rule training_curve:
    input:
        history=pattern("history"),
        code=code("training_curve"),
    output:
        report(
            pattern("training_curve"),
            caption="../report/training.rst",
            category="Training curves",
            labels={"model": "{model}", "seed": "{seed}"},
        ),
    log:
        log_pattern("training_curve"),
    benchmark:
        benchmark_pattern("training_curve")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/training_curve.py"


rule sample_grid:
    input:
        data=pattern("dataset"),
        code=code("sample_grid"),
    output:
        report(
            pattern("samples"),
            caption="../report/samples.rst",
            category="Datasets",
            labels={"dataset": "{dataset}", "seed": "{seed}"},
        ),
    log:
        log_pattern("samples"),
    benchmark:
        benchmark_pattern("samples")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/sample_grid.py"
