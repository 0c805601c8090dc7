rule train_base:
    input:
        data="results/s{seed}/datasets/biased.h5",
        code=library("training", "models", "storage"),
    output:
        model="results/s{seed}/models/base.pt",
        history="results/s{seed}/models/base.csv",
    params:
        train=config["train"],
        device=config["device"],
    threads: 2
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
