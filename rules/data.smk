# The mirror folder is read from the config, not passed as a parameter: the files are verified by their MD5s
# (`md5` below), so a byte-identical mirror elsewhere, or a corrected typo, reruns nothing.
rule mnist:
    output:
        MNIST_FILES,
    params:
        md5=config["mnist"]["md5"],
    localrule: True
    priority: PRIORITY["base"]
    log:
        workflow_log("mnist"),
    benchmark:
        workflow_benchmark("mnist")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/fetch_mnist.py"


rule biased_dataset:
    input:
        mnist=MNIST_FILES,
        code=code("biased_dataset"),
    output:
        pattern("biased"),
    params:
        settings=stage_settings("biased_dataset"),
    threads: 1
    resources:
        **cpu_job(),
        mem_mb=generation_mem_mb("train"),
    group:
        "datasets"
    priority: PRIORITY["base"]
    log:
        log_pattern("biased"),
    benchmark:
        benchmark_pattern("biased")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/biased_dataset.py"


rule test_dataset:
    input:
        mnist=MNIST_FILES,
        code=code("test_dataset"),
    output:
        pattern("test_set"),
    params:
        settings=stage_settings("test_dataset"),
        mode=test_mode,
    threads: 1
    resources:
        **cpu_job(),
        mem_mb=generation_mem_mb("test"),
    group:
        "datasets"
    priority: PRIORITY["dataset"]
    log:
        log_pattern("test_set"),
    benchmark:
        benchmark_pattern("test_set")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/test_dataset.py"


rule paired_dataset:
    input:
        biased=pattern("biased"),
        mnist=MNIST_FILES,
        ranking=ranking_of,
        code=code("paired_dataset"),
    output:
        pattern("paired_set"),
    params:
        settings=stage_settings("paired_dataset"),
        mode=lambda wildcards: paired_cell(wildcards).augment_mode,
        fraction=lambda wildcards: paired_cell(wildcards).fraction,
        selection=lambda wildcards: paired_cell(wildcards).selection,
    threads: 1
    resources:
        **cpu_job(),
        mem_mb=1500,
    group:
        "paired_datasets"
    priority: PRIORITY["paired_dataset"]
    log:
        log_pattern("paired_set"),
    benchmark:
        benchmark_pattern("paired_set")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/paired_dataset.py"
