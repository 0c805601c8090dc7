rule train_base:
    input:
        data=pattern("biased"),
        code=code("train_base"),
    output:
        model=pattern("model", model=BASE_MODEL),
        history=pattern("history", model=BASE_MODEL),
    params:
        settings=stage_settings("train_base"),
    threads: config["threads"]
    resources:
        **gpu_job(),
        mem_mb=3000,
        runtime=240,
    priority: PRIORITY["base"]
    log:
        log_pattern("model", model=BASE_MODEL),
    benchmark:
        benchmark_pattern("model", model=BASE_MODEL)
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/train_base.py"


rule train_method:
    input:
        data=pattern("biased"),
        code=method_code,
    output:
        model=pattern("model", model="{method}"),
        history=pattern("history", model="{method}"),
    params:
        settings=stage_settings("train_method", method="method"),
    wildcard_constraints:
        method=one_of(union("trained_methods")),
    threads: config["threads"]
    resources:
        **gpu_job(),
        mem_mb=3000,
        runtime=480,
    priority: PRIORITY["base"]
    log:
        log_pattern("model", model="{method}"),
    benchmark:
        benchmark_pattern("model", model="{method}")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/train_method.py"


rule paired_train:
    input:
        base=pattern("model", model=BASE_MODEL),
        data=pattern("paired_set"),
        code=code("paired_train"),
    output:
        model=pattern("model", model=PAIRED_MODEL),
        history=pattern("history", model=PAIRED_MODEL),
    params:
        settings=stage_settings("paired_train"),
    threads: config["threads"]
    resources:
        **gpu_job(),
        mem_mb=4000,
        runtime=240,
    priority: PRIORITY["paired_train"]
    log:
        log_pattern("model", model=PAIRED_MODEL),
    benchmark:
        benchmark_pattern("model", model=PAIRED_MODEL)
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/paired_train.py"


rule rank_images:
    input:
        base=pattern("model", model=BASE_MODEL),
        biased=pattern("biased"),
        mnist=MNIST_FILES,
        code=code("rank_images"),
    output:
        pattern("ranking"),
    params:
        settings=stage_settings("rank_images"),
    threads: config["threads"]
    resources:
        **gpu_job(),
        mem_mb=3000,
        runtime=60,
    priority: PRIORITY["paired_dataset"]
    log:
        log_pattern("ranking"),
    benchmark:
        benchmark_pattern("ranking")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/rank_images.py"
