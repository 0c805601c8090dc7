rule evaluate:
    input:
        model="results/s{seed}/models/{model}.pt",
        data="results/s{seed}/datasets/test/{test_set}.h5",
        code=library("evaluation", "models", "storage"),
    output:
        "results/s{seed}/eval/{model}/{test_set}.json",
    params:
        color_pool=config["color_pool"],
        device=config["device"],
    threads: 1
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
