rule grey_dataset:
    input:
        mnist=MNIST_FILES,
        code=code("grey_dataset"),
    output:
        pattern("grey"),
    params:
        settings=stage_settings("grey_dataset"),
    resources:
        **cpu_job(),
        mem_mb=1000,
    group:
        "datasets"
    priority: PRIORITY["adversarial"]
    log:
        log_pattern("grey"),
    benchmark:
        benchmark_pattern("grey")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/grey_dataset.py"


rule train_grey:
    input:
        data=pattern("grey"),
        code=code("train_grey"),
    output:
        model=pattern("grey_model", model=GREY_MODEL),
        history=pattern("grey_history", model=GREY_MODEL),
    params:
        settings=stage_settings("train_grey"),
    threads: config["threads"]
    resources:
        **gpu_job(),
        mem_mb=2000,
        runtime=60,
    priority: PRIORITY["adversarial"]
    log:
        log_pattern("grey_model", model=GREY_MODEL),
    benchmark:
        benchmark_pattern("grey_model", model=GREY_MODEL)
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/train_grey.py"


rule attack:
    input:
        model=pattern("grey_model", model=GREY_MODEL),
        grey=pattern("grey"),
        code=code("attack"),
    output:
        pattern("adversarial_set"),
    params:
        settings=stage_settings("attack", attack="attack"),
    threads: config["threads"]
    resources:
        **gpu_job(),
        mem_mb=3000,
        runtime=240,
    group:
        "adversarial"
    priority: PRIORITY["adversarial"]
    log:
        log_pattern("adversarial_set"),
    benchmark:
        benchmark_pattern("adversarial_set")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/attack.py"


rule adversarial_finetune:
    input:
        base=pattern("grey_model", model=GREY_MODEL),
        data=pattern("adversarial_set"),
        code=code("adversarial_finetune"),
    output:
        model=pattern("grey_model", model="{attack}"),
        history=pattern("grey_history", model="{attack}"),
    params:
        settings=stage_settings("adversarial_finetune"),
    threads: config["threads"]
    resources:
        **gpu_job(),
        mem_mb=2000,
        runtime=60,
    group:
        "adversarial"
    priority: PRIORITY["adversarial"]
    log:
        log_pattern("grey_model", model="{attack}"),
    benchmark:
        benchmark_pattern("grey_model", model="{attack}")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/adversarial_finetune.py"


rule evaluate_adversarial:
    input:
        model=pattern("grey_model", model="{grey_model}"),
        clean=pattern("grey"),
        sets=run_paths("adversarial_set", seed="{seed}", attack="attacks"),
        code=code("evaluate_adversarial"),
    output:
        pattern("adversarial_metrics", model="{grey_model}"),
    params:
        settings=stage_settings("evaluate_adversarial", model="grey_model"),
    threads: config["threads"]
    resources:
        **cpu_job(),
        mem_mb=1500,
    group:
        "adversarial_evaluation"
    priority: PRIORITY["adversarial"]
    log:
        log_pattern("adversarial_metrics", model="{grey_model}"),
    benchmark:
        benchmark_pattern("adversarial_metrics", model="{grey_model}")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/evaluate_adversarial.py"


rule forgetting_table:
    input:
        evaluations=run_paths("adversarial_metrics", seed="seeds", model="adversarial_models"),
        code=code("forgetting_table"),
    output:
        **table_output("forgetting"),
    localrule: True
    priority: PRIORITY["table"]
    log:
        table_log("forgetting"),
    benchmark:
        table_benchmark("forgetting")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/forgetting_table.py"


rule attack_table:
    input:
        sets=run_paths("adversarial_set", seed="seeds", attack="attacks"),
        code=code("attack_table"),
    output:
        **table_output("attacks"),
    localrule: True
    priority: PRIORITY["table"]
    log:
        table_log("attacks"),
    benchmark:
        table_benchmark("attacks")
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/attack_table.py"


rule forgetting_figure:
    input:
        table=pattern("table_csv", table="forgetting"),
        code=code("forgetting_figure"),
    output:
        figure_output("forgetting"),
    localrule: True
    priority: PRIORITY["figure"]
    log:
        table_log("forgetting", figure=True),
    benchmark:
        table_benchmark("forgetting", figure=True)
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/forgetting_figure.py"
