rule confusion_figure:
    input:
        metrics="results/s{seed}/eval/{model}/{test_set}.json",
        code=library("plots"),
    output:
        png=report(
            "results/s{seed}/figures/confusion/{model}/{test_set}.png",
            caption="../report/confusion.rst",
            category="Confusion matrices",
            subcategory="{model}",
            labels={"model": "{model}", "test set": "{test_set}", "seed": "{seed}"},
        ),
        csv="results/s{seed}/figures/confusion/{model}/{test_set}.csv",
    log:
        "results/logs/s{seed}/figures/confusion/{model}/{test_set}.log",
    benchmark:
        "results/benchmarks/s{seed}/figures/confusion/{model}/{test_set}.tsv"
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/confusion_figure.py"


rule training_curve:
    input:
        history="results/s{seed}/models/{model}.csv",
        code=library("plots"),
    output:
        report(
            "results/s{seed}/figures/training/{model}.png",
            caption="../report/training.rst",
            category="Training curves",
            labels={"model": "{model}", "seed": "{seed}"},
        ),
    log:
        "results/logs/s{seed}/figures/training/{model}.log",
    benchmark:
        "results/benchmarks/s{seed}/figures/training/{model}.tsv"
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/training_curve.py"


rule sample_grid:
    input:
        data="results/s{seed}/datasets/{dataset}.h5",
        code=library("plots", "pairs", "storage"),
    output:
        report(
            "results/s{seed}/figures/samples/{dataset}.png",
            caption="../report/samples.rst",
            category="Datasets",
            labels={"dataset": "{dataset}", "seed": "{seed}"},
        ),
    wildcard_constraints:
        dataset="biased|test/[^/]+|paired/[^/]+",
    log:
        "results/logs/s{seed}/figures/samples/{dataset}.log",
    benchmark:
        "results/benchmarks/s{seed}/figures/samples/{dataset}.tsv"
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/sample_grid.py"
