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
        code=library("datasets", "backgrounds", "mnist", "storage"),
    output:
        "results/s{seed}/datasets/biased.h5",
    params:
        data=dataset_params(),
        bias=config["bias"],
    threads: 2
    resources:
        mem_mb=generation_mem_mb("train"),
    log:
        "results/logs/s{seed}/datasets/biased.log",
    benchmark:
        "results/benchmarks/s{seed}/datasets/biased.tsv"
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/biased_dataset.py"


rule test_dataset:
    input:
        mnist=MNIST_FILES,
        code=library("datasets", "backgrounds", "mnist", "storage"),
    output:
        "results/s{seed}/datasets/test/{test_set}.h5",
    params:
        data=dataset_params(),
        mode=test_mode,
    threads: 2
    resources:
        mem_mb=generation_mem_mb("test"),
    log:
        "results/logs/s{seed}/datasets/test/{test_set}.log",
    benchmark:
        "results/benchmarks/s{seed}/datasets/test/{test_set}.tsv"
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/test_dataset.py"


rule paired_dataset:
    input:
        biased="results/s{seed}/datasets/biased.h5",
        mnist=MNIST_FILES,
        code=library("pairs", "datasets", "backgrounds", "mnist", "storage"),
    output:
        "results/s{seed}/datasets/paired/{augment}-f{fraction}.h5",
    wildcard_constraints:
        augment="[^/]+",
        fraction="[0-9.e+-]+",
    params:
        data=dataset_params(),
        mode=augment_mode,
        fraction=augment_fraction,
        copies=config["paired"]["copies"],
    threads: 2
    resources:
        mem_mb=1500,
    log:
        "results/logs/s{seed}/datasets/paired/{augment}-f{fraction}.log",
    benchmark:
        "results/benchmarks/s{seed}/datasets/paired/{augment}-f{fraction}.tsv"
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/paired_dataset.py"
