rule grey_dataset:
    input:
        mnist=MNIST_FILES,
        code=library("grey", "datasets", "backgrounds", "mnist", "storage"),
    output:
        "results/s{seed}/adversarial/datasets/grey.h5",
    params:
        data=grey_params(),
    resources:
        mem_mb=1000,
    log:
        "results/logs/s{seed}/adversarial/datasets/grey.log",
    benchmark:
        "results/benchmarks/s{seed}/adversarial/datasets/grey.tsv"
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/grey_dataset.py"


rule train_grey:
    input:
        data="results/s{seed}/adversarial/datasets/grey.h5",
        code=library("training", "grey", "models", "storage"),
    output:
        model="results/s{seed}/adversarial/models/grey.pt",
        history="results/s{seed}/adversarial/models/grey.csv",
    params:
        train=config["adversarial"]["train"],
        device=config["device"],
    threads: config["threads"]
    resources:
        gpu=gpu_count(),
        mem_mb=2000,
        runtime=60,
    log:
        "results/logs/s{seed}/adversarial/models/grey.log",
    benchmark:
        "results/benchmarks/s{seed}/adversarial/models/grey.tsv"
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/train_grey.py"


rule attack:
    input:
        model="results/s{seed}/adversarial/models/grey.pt",
        grey="results/s{seed}/adversarial/datasets/grey.h5",
        code=library("attacks", "adversarial", "grey", "models", "storage", "training"),
    output:
        "results/s{seed}/adversarial/sets/{attack}.h5",
    params:
        adversarial=attack_params,
        device=config["device"],
    wildcard_constraints:
        attack=one_of(ATTACKS),
    threads: config["threads"]
    resources:
        gpu=gpu_count(),
        mem_mb=3000,
        runtime=240,
    log:
        "results/logs/s{seed}/adversarial/sets/{attack}.log",
    benchmark:
        "results/benchmarks/s{seed}/adversarial/sets/{attack}.tsv"
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/attack.py"


rule adversarial_finetune:
    input:
        base="results/s{seed}/adversarial/models/grey.pt",
        data="results/s{seed}/adversarial/sets/{attack}.h5",
        code=library("forgetting", "grey", "training", "models", "storage"),
    output:
        model="results/s{seed}/adversarial/models/{attack}.pt",
        history="results/s{seed}/adversarial/models/{attack}.csv",
    params:
        fine_tune=config["adversarial"]["fine_tune"],
        device=config["device"],
    wildcard_constraints:
        attack=one_of(ATTACKS),
    threads: config["threads"]
    resources:
        gpu=gpu_count(),
        mem_mb=2000,
        runtime=60,
    log:
        "results/logs/s{seed}/adversarial/models/{attack}.log",
    benchmark:
        "results/benchmarks/s{seed}/adversarial/models/{attack}.tsv"
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/adversarial_finetune.py"


rule evaluate_adversarial:
    input:
        model="results/s{seed}/adversarial/models/{model}.pt",
        clean="results/s{seed}/adversarial/datasets/grey.h5",
        sets=expand("results/s{{seed}}/adversarial/sets/{attack}.h5", attack=ATTACKS),
        code=library("forgetting", "adversarial", "grey", "evaluation", "models", "storage"),
    output:
        "results/s{seed}/adversarial/eval/{model}.json",
    params:
        device=config["device"],
    wildcard_constraints:
        model=one_of(ADVERSARIAL_MODELS),
    threads: config["threads"]
    resources:
        mem_mb=1500,
    log:
        "results/logs/s{seed}/adversarial/eval/{model}.log",
    benchmark:
        "results/benchmarks/s{seed}/adversarial/eval/{model}.tsv"
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/evaluate_adversarial.py"


rule forgetting_table:
    input:
        evaluations=expand("results/s{seed}/adversarial/eval/{model}.json", seed=SEEDS, model=ADVERSARIAL_MODELS),
        code=library("adversarial_tables", "adversarial"),
    output:
        csv=report(
            "results/tables/forgetting.csv",
            caption="../report/forgetting.rst",
            category="Adversarial forgetting",
            labels={"table": "forgetting", "kind": "table"},
        ),
        md="results/tables/forgetting.md",
    log:
        "results/logs/tables/forgetting.log",
    benchmark:
        "results/benchmarks/tables/forgetting.tsv"
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/forgetting_table.py"


rule attack_table:
    input:
        sets=expand("results/s{seed}/adversarial/sets/{attack}.h5", seed=SEEDS, attack=ATTACKS),
        code=library("adversarial_tables", "adversarial"),
    output:
        csv=report(
            "results/tables/attacks.csv",
            caption="../report/attacks.rst",
            category="Adversarial forgetting",
            labels={"table": "attacks", "kind": "table"},
        ),
        md="results/tables/attacks.md",
    log:
        "results/logs/tables/attacks.log",
    benchmark:
        "results/benchmarks/tables/attacks.tsv"
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/attack_table.py"


rule forgetting_figure:
    input:
        table="results/tables/forgetting.csv",
        code=library("adversarial_tables", "plots"),
    output:
        report(
            "results/figures/forgetting.png",
            caption="../report/forgetting.rst",
            category="Adversarial forgetting",
            labels={"table": "forgetting", "kind": "figure"},
        ),
    log:
        "results/logs/figures/forgetting.log",
    benchmark:
        "results/benchmarks/figures/forgetting.tsv"
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/forgetting_figure.py"
