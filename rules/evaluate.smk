rule evaluate:
    input:
        model=GRID.pattern("model"),
        data=GRID.pattern("test_set"),
        code=code("evaluate"),
    output:
        GRID.pattern("metrics"),
    params:
        color_pool=config["color_pool"],
        device=config["device"],
    threads: config["threads"]
    resources:
        mem_mb=1500,
    log:
        GRID.log("metrics"),
    benchmark:
        GRID.benchmark("metrics")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/evaluate.py"


rule accuracy_table:
    input:
        metrics=GRID.metrics(),
        code=code("accuracy_table"),
    output:
        csv=report(
            GRID.path("table_csv", table="accuracy"),
            caption="../report/accuracy.rst",
            category="Accuracy tables",
            labels={"table": "accuracy", "kind": "table"},
        ),
        md=GRID.path("table_md", table="accuracy"),
        png=report(
            GRID.path("figure", figure="accuracy"),
            caption="../report/accuracy.rst",
            category="Accuracy tables",
            labels={"table": "accuracy", "kind": "heatmap"},
        ),
    params:
        test_sets=list(GRID.test_sets),
    log:
        GRID.log("table_csv", table="accuracy"),
    benchmark:
        GRID.benchmark("table_csv", table="accuracy")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/accuracy_table.py"


rule per_colour_table:
    input:
        metrics=GRID.metrics([GRID.pool_test_set, *GRID.colour_tests] if GRID.pool_test_set else GRID.colour_tests),
        code=code("per_colour_table"),
    output:
        csv=report(
            GRID.path("table_csv", table="per_colour"),
            caption="../report/per_colour.rst",
            category="Per-colour tables",
            labels={"table": "per_colour", "kind": "table"},
        ),
        md=GRID.path("table_md", table="per_colour"),
        png=report(
            GRID.path("figure", figure="per_colour"),
            caption="../report/per_colour.rst",
            category="Per-colour tables",
            labels={"table": "per_colour", "kind": "heatmap"},
        ),
    params:
        color_pool=config["color_pool"],
        pool_test_set=GRID.pool_test_set,
        colour_tests=GRID.colour_tests,
    log:
        GRID.log("table_csv", table="per_colour"),
    benchmark:
        GRID.benchmark("table_csv", table="per_colour")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/per_colour_table.py"


rule fraction_table:
    input:
        metrics=GRID.metrics(),
        code=code("fraction_table"),
    output:
        csv=report(
            GRID.path("table_csv", table="fractions"),
            caption="../report/fractions.rst",
            category="Augmentation fraction",
            labels={"table": "fractions", "kind": "table"},
        ),
        md=GRID.path("table_md", table="fractions"),
        png=report(
            GRID.path("figure", figure="fractions"),
            caption="../report/fractions.rst",
            category="Augmentation fraction",
            labels={"table": "fractions", "kind": "figure"},
        ),
    params:
        test_sets=list(GRID.test_sets),
    log:
        GRID.log("table_csv", table="fractions"),
    benchmark:
        GRID.benchmark("table_csv", table="fractions")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/fraction_table.py"


rule reproduction:
    input:
        accuracy=GRID.path("table_md", table="accuracy"),
        per_colour=GRID.path("table_md", table="per_colour"),
        fractions=GRID.path("table_md", table="fractions"),
        metrics=GRID.metrics([GRID.pool_test_set] if GRID.pool_test_set else None),
        code=code("reproduction"),
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
