rule train_base:
    input:
        data=GRID.pattern("biased"),
        code=code("train_base"),
    output:
        model=GRID.pattern("model", model=BASE_MODEL),
        history=GRID.pattern("history", model=BASE_MODEL),
    params:
        model=config["model"],
        train=config["train"],
        device=config["device"],
    threads: config["threads"]
    resources:
        gpu=gpu_count(),
        mem_mb=3000,
        runtime=240,
    log:
        GRID.log("model", model=BASE_MODEL),
    benchmark:
        GRID.benchmark("model", model=BASE_MODEL)
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/train_base.py"


rule paired_train:
    input:
        base=GRID.pattern("model", model=BASE_MODEL),
        data=GRID.pattern("paired_set"),
        code=code("paired_train"),
    output:
        model=GRID.pattern("model", model="paired-{paired}"),
        history=GRID.pattern("history", model="paired-{paired}"),
    params:
        paired=paired_train_params(),
        device=config["device"],
    threads: config["threads"]
    resources:
        gpu=gpu_count(),
        mem_mb=4000,
        runtime=240,
    log:
        GRID.log("model", model="paired-{paired}"),
    benchmark:
        GRID.benchmark("model", model="paired-{paired}")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/paired_train.py"
