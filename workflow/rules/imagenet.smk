include: "imagenet_common.smk"


rule imagenet_accuracy:
    input:
        # the model's weights file, if it reads one (workflow/rules/common.smk)
        weights=model_weights,
    output:
        out_path="results/imagenet/{model}.csv",
    log:
        "results/logs/imagenet/{model}.log",
    benchmark:
        "results/benchmarks/imagenet/{model}.tsv"
    wildcard_constraints:
        model=one_of(IMAGENET_MODELS),
    conda:
        "../../envs/neuralign.yaml"
    threads: max(2, IMAGENET["workers"])
    resources:
        mem_mb=16000,
        runtime=240,
        gpu=gpus(IMAGENET["device"]),
    params:
        source=lambda wildcards: MODEL_TABLE.loc[wildcards.model, "source"],
        val_dir=IMAGENET["val_dir"],
        options=IMAGENET_OPTIONS,
    script:
        "../scripts/imagenet_accuracy.py"


rule imagenet_summary:
    input:
        accuracy_paths=expand("results/imagenet/{model}.csv", model=IMAGENET_MODELS),
    output:
        out_path=report(
            "results/tables/imagenet_accuracy.csv",
            caption="../report/imagenet_accuracy.rst",
            category="Tables",
        ),
    log:
        "results/logs/tables/imagenet_accuracy.log",
    benchmark:
        "results/benchmarks/tables/imagenet_accuracy.tsv"
    conda:
        "../../envs/neuralign.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        models=[row for row in model_rows() if row["id"] in IMAGENET_MODELS],
    script:
        "../scripts/imagenet_summary.py"
