rule mnist:
    output:
        MNIST_FILES,
    params:
        mirror=config["mnist"]["mirror"],
        md5=config["mnist"]["md5"],
    log:
        "results/logs/mnist.log",
    benchmark:
        "results/benchmarks/mnist.tsv"
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/fetch_mnist.py"


rule biased_dataset:
    input:
        mnist=MNIST_FILES,
        code=code("biased_dataset"),
    output:
        GRID.pattern("biased"),
    params:
        data=dataset_params(),
        bias=config["bias"],
    threads: 2
    resources:
        mem_mb=generation_mem_mb("train"),
    log:
        GRID.log("biased"),
    benchmark:
        GRID.benchmark("biased")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/biased_dataset.py"


rule test_dataset:
    input:
        mnist=MNIST_FILES,
        code=code("test_dataset"),
    output:
        GRID.pattern("test_set"),
    params:
        data=dataset_params(),
        mode=test_mode,
    threads: 2
    resources:
        mem_mb=generation_mem_mb("test"),
    log:
        GRID.log("test_set"),
    benchmark:
        GRID.benchmark("test_set")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/test_dataset.py"


rule paired_dataset:
    input:
        biased=GRID.pattern("biased"),
        mnist=MNIST_FILES,
        code=code("paired_dataset"),
    output:
        GRID.pattern("paired_set"),
    params:
        data=dataset_params(),
        mode=lambda wildcards: paired_cell(wildcards).augment_mode,
        fraction=lambda wildcards: paired_cell(wildcards).fraction,
        copies=config["paired"]["copies"],
    threads: 2
    resources:
        mem_mb=1500,
    log:
        GRID.log("paired_set"),
    benchmark:
        GRID.benchmark("paired_set")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/paired_dataset.py"
