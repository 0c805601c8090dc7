rule confusion_figure:
    input:
        metrics=GRID.pattern("metrics"),
        code=code("confusion_figure"),
    output:
        png=report(
            GRID.pattern("confusion_png"),
            caption="../report/confusion.rst",
            category="Confusion matrices",
            subcategory="{model}",
            labels={"model": "{model}", "test set": "{test_set}", "seed": "{seed}"},
        ),
        csv=GRID.pattern("confusion_csv"),
    log:
        GRID.log("confusion_png"),
    benchmark:
        GRID.benchmark("confusion_png")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/confusion_figure.py"


rule training_curve:
    input:
        history=GRID.pattern("history"),
        code=code("training_curve"),
    output:
        report(
            GRID.pattern("training_curve"),
            caption="../report/training.rst",
            category="Training curves",
            labels={"model": "{model}", "seed": "{seed}"},
        ),
    log:
        GRID.log("training_curve"),
    benchmark:
        GRID.benchmark("training_curve")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/training_curve.py"


rule sample_grid:
    input:
        data=GRID.pattern("dataset"),
        code=code("sample_grid"),
    output:
        report(
            GRID.pattern("samples"),
            caption="../report/samples.rst",
            category="Datasets",
            labels={"dataset": "{dataset}", "seed": "{seed}"},
        ),
    wildcard_constraints:
        dataset=one_of(GRID.datasets),
    log:
        GRID.log("samples"),
    benchmark:
        GRID.benchmark("samples")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/sample_grid.py"
