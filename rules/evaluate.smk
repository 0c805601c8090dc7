rule evaluate:
    input:
        model="results/s{seed}/models/{model}.pt",
        data="results/s{seed}/datasets/test/{test_set}.h5",
        code=library("model_stages", "evaluation", "models", "storage"),
    output:
        "results/s{seed}/eval/{model}/{test_set}.json",
    params:
        color_pool=config["color_pool"],
        device=config["device"],
    threads: config["threads"]
    resources:
        mem_mb=1500,
    log:
        "results/logs/s{seed}/eval/{model}/{test_set}.log",
    benchmark:
        "results/benchmarks/s{seed}/eval/{model}/{test_set}.tsv"
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/evaluate.py"


rule accuracy_table:
    input:
        metrics=eval_metrics(),
        code=library("tables", "plots"),
    output:
        csv=report(
            "results/tables/accuracy.csv",
            caption="../report/accuracy.rst",
            category="Accuracy tables",
            labels={"table": "accuracy", "kind": "table"},
        ),
        md="results/tables/accuracy.md",
        png=report(
            "results/figures/accuracy.png",
            caption="../report/accuracy.rst",
            category="Accuracy tables",
            labels={"table": "accuracy", "kind": "heatmap"},
        ),
    params:
        test_sets=list(TEST_SETS),
    log:
        "results/logs/tables/accuracy.log",
    benchmark:
        "results/benchmarks/tables/accuracy.tsv"
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/accuracy_table.py"


rule per_colour_table:
    input:
        metrics=eval_metrics([POOL_TEST_SET, *COLOUR_TESTS] if POOL_TEST_SET else COLOUR_TESTS),
        code=library("tables", "plots"),
    output:
        csv=report(
            "results/tables/per_colour.csv",
            caption="../report/per_colour.rst",
            category="Per-colour tables",
            labels={"table": "per_colour", "kind": "table"},
        ),
        md="results/tables/per_colour.md",
        png=report(
            "results/figures/per_colour.png",
            caption="../report/per_colour.rst",
            category="Per-colour tables",
            labels={"table": "per_colour", "kind": "heatmap"},
        ),
    params:
        color_pool=config["color_pool"],
        pool_test_set=POOL_TEST_SET,
        colour_tests=COLOUR_TESTS,
    log:
        "results/logs/tables/per_colour.log",
    benchmark:
        "results/benchmarks/tables/per_colour.tsv"
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/per_colour_table.py"


rule fraction_table:
    input:
        metrics=eval_metrics(),
        code=library("tables", "plots"),
    output:
        csv=report(
            "results/tables/fractions.csv",
            caption="../report/fractions.rst",
            category="Augmentation fraction",
            labels={"table": "fractions", "kind": "table"},
        ),
        md="results/tables/fractions.md",
        png=report(
            "results/figures/fractions.png",
            caption="../report/fractions.rst",
            category="Augmentation fraction",
            labels={"table": "fractions", "kind": "figure"},
        ),
    params:
        test_sets=list(TEST_SETS),
    log:
        "results/logs/tables/fractions.log",
    benchmark:
        "results/benchmarks/tables/fractions.tsv"
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/fraction_table.py"


rule reproduction:
    input:
        accuracy="results/tables/accuracy.md",
        per_colour="results/tables/per_colour.md",
        fractions="results/tables/fractions.md",
        metrics=eval_metrics([POOL_TEST_SET] if POOL_TEST_SET else None),
        code=library("reproduction"),
    output:
        "docs/reproduction.md",
    params:
        config=config,
    log:
        "results/logs/reproduction.log",
    benchmark:
        "results/benchmarks/reproduction.tsv"
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/reproduction.py"
