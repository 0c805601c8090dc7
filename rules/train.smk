rule train_base:
    input:
        data="results/s{seed}/datasets/biased.h5",
        code=library("model_stages", "training", "models", "storage"),
    output:
        model="results/s{seed}/models/base.pt",
        history="results/s{seed}/models/base.csv",
    params:
        train=config["train"],
        device=config["device"],
    threads: config["threads"]
    resources:
        gpu=gpu_count(),
        mem_mb=3000,
        runtime=240,
    log:
        "results/logs/s{seed}/models/base.log",
    benchmark:
        "results/benchmarks/s{seed}/models/base.tsv"
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/train_base.py"


rule paired_train:
    input:
        base="results/s{seed}/models/base.pt",
        data="results/s{seed}/datasets/paired/{augment}-f{fraction}.h5",
        code=library("model_stages", "paired_training", "training", "models", "pairs", "storage"),
    output:
        model="results/s{seed}/models/paired-{augment}-f{fraction}.pt",
        history="results/s{seed}/models/paired-{augment}-f{fraction}.csv",
    params:
        paired=paired_train_params(),
        device=config["device"],
    threads: config["threads"]
    resources:
        gpu=gpu_count(),
        mem_mb=4000,
        runtime=240,
    log:
        "results/logs/s{seed}/models/paired-{augment}-f{fraction}.log",
    benchmark:
        "results/benchmarks/s{seed}/models/paired-{augment}-f{fraction}.tsv"
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/paired_train.py"
