rule grey_dataset:
    input:
        mnist=MNIST_FILES,
        code=code("grey_dataset"),
    output:
        GRID.pattern("grey"),
    params:
        data=grey_params(),
    resources:
        mem_mb=1000,
    log:
        GRID.log("grey"),
    benchmark:
        GRID.benchmark("grey")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/grey_dataset.py"


rule train_grey:
    input:
        data=GRID.pattern("grey"),
        code=code("train_grey"),
    output:
        model=GRID.pattern("grey_model", model=GREY_MODEL),
        history=GRID.pattern("grey_history", model=GREY_MODEL),
    params:
        train=config["adversarial"]["train"],
        device=config["device"],
    threads: config["threads"]
    resources:
        gpu=gpu_count(),
        mem_mb=2000,
        runtime=60,
    log:
        GRID.log("grey_model", model=GREY_MODEL),
    benchmark:
        GRID.benchmark("grey_model", model=GREY_MODEL)
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/train_grey.py"


rule attack:
    input:
        model=GRID.pattern("grey_model", model=GREY_MODEL),
        grey=GRID.pattern("grey"),
        code=code("attack"),
    output:
        GRID.pattern("adversarial_set"),
    params:
        adversarial=attack_params,
        device=config["device"],
    wildcard_constraints:
        attack=one_of(GRID.attacks),
    threads: config["threads"]
    resources:
        gpu=gpu_count(),
        mem_mb=3000,
        runtime=240,
    log:
        GRID.log("adversarial_set"),
    benchmark:
        GRID.benchmark("adversarial_set")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/attack.py"


rule adversarial_finetune:
    input:
        base=GRID.pattern("grey_model", model=GREY_MODEL),
        data=GRID.pattern("adversarial_set"),
        code=code("adversarial_finetune"),
    output:
        model=GRID.pattern("grey_model", model="{attack}"),
        history=GRID.pattern("grey_history", model="{attack}"),
    params:
        fine_tune=config["adversarial"]["fine_tune"],
        device=config["device"],
    wildcard_constraints:
        attack=one_of(GRID.attacks),
    threads: config["threads"]
    resources:
        gpu=gpu_count(),
        mem_mb=2000,
        runtime=60,
    log:
        GRID.log("grey_model", model="{attack}"),
    benchmark:
        GRID.benchmark("grey_model", model="{attack}")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/adversarial_finetune.py"


rule evaluate_adversarial:
    input:
        model=GRID.pattern("grey_model", model="{grey_model}"),
        clean=GRID.pattern("grey"),
        sets=expand(GRID.pattern("adversarial_set", seed="{{seed}}"), attack=GRID.attacks),
        code=code("evaluate_adversarial"),
    output:
        GRID.pattern("adversarial_metrics", model="{grey_model}"),
    params:
        device=config["device"],
    wildcard_constraints:
        grey_model=one_of(GRID.adversarial_models),
    threads: config["threads"]
    resources:
        mem_mb=1500,
    log:
        GRID.log("adversarial_metrics", model="{grey_model}"),
    benchmark:
        GRID.benchmark("adversarial_metrics", model="{grey_model}")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/evaluate_adversarial.py"


rule forgetting_table:
    input:
        evaluations=GRID.paths("adversarial_metrics", seed=GRID.seeds, model=GRID.adversarial_models),
        code=code("forgetting_table"),
    output:
        csv=report(
            GRID.path("table_csv", table="forgetting"),
            caption="../report/forgetting.rst",
            category="Adversarial forgetting",
            labels={"table": "forgetting", "kind": "table"},
        ),
        md=GRID.path("table_md", table="forgetting"),
    log:
        GRID.log("table_csv", table="forgetting"),
    benchmark:
        GRID.benchmark("table_csv", table="forgetting")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/forgetting_table.py"


rule attack_table:
    input:
        sets=GRID.paths("adversarial_set", seed=GRID.seeds, attack=GRID.attacks),
        code=code("attack_table"),
    output:
        csv=report(
            GRID.path("table_csv", table="attacks"),
            caption="../report/attacks.rst",
            category="Adversarial forgetting",
            labels={"table": "attacks", "kind": "table"},
        ),
        md=GRID.path("table_md", table="attacks"),
    log:
        GRID.log("table_csv", table="attacks"),
    benchmark:
        GRID.benchmark("table_csv", table="attacks")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/attack_table.py"


rule forgetting_figure:
    input:
        table=GRID.path("table_csv", table="forgetting"),
        code=code("forgetting_figure"),
    output:
        report(
            GRID.path("figure", figure="forgetting"),
            caption="../report/forgetting.rst",
            category="Adversarial forgetting",
            labels={"table": "forgetting", "kind": "figure"},
        ),
    log:
        GRID.log("figure", figure="forgetting"),
    benchmark:
        GRID.benchmark("figure", figure="forgetting")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/forgetting_figure.py"
