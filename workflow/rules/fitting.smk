rule fit:
    input:
        activations_path="results/activations/{dataset}/{model}.nc",
        dataset_path="results/datasets/{dataset}.nc",
        ceiling_path="results/ceilings/{dataset}.nc",
        layer_source=layer_source,
    output:
        out_path="results/fits/{dataset}/{model}.nc",
    log:
        "results/logs/fits/{dataset}/{model}.log",
    benchmark:
        "results/benchmarks/fits/{dataset}/{model}.tsv"
    wildcard_constraints:
        dataset=one_of(FIT_DATASETS),
    conda:
        "../../envs/neuralign.yaml"
    threads: 1  # as activations
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=gpus(config["fitting"]["device"]),
    params:
        options=config["fitting"],
    script:
        "../scripts/fit.py"


rule rsa_fit:
    input:
        activations_path="results/activations/{dataset}/{model}.nc",
        dataset_path="results/datasets/{dataset}.nc",
    output:
        out_path="results/fits/{dataset}/{model}.nc",
    log:
        "results/logs/fits/{dataset}/{model}.log",
    benchmark:
        "results/benchmarks/fits/{dataset}/{model}.tsv"
    wildcard_constraints:
        dataset=one_of(RDM_DATASETS),
    conda:
        "../../envs/neuralign.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        options=config["rsa"],
    script:
        "../scripts/rsa_fit.py"


rule scores:
    input:
        fit_paths=expand("results/fits/{{dataset}}/{model}.nc", model=MODELS),
        # human alignment on ClickMe (workflow/rules/harmonizer_common.smk), when configured
        alignment_paths=lambda wildcards: alignment_files(wildcards),
        # measured top-1 of models without one in the table (workflow/rules/imagenet_common.smk)
        imagenet_paths=lambda wildcards: measured_top1_files(wildcards),
    output:
        out_path=report(
            "results/scores/{dataset}.csv",
            caption="../report/scores.rst",
            category="Scores",
        ),
    log:
        "results/logs/scores/{dataset}.log",
    benchmark:
        "results/benchmarks/scores/{dataset}.tsv"
    conda:
        "../../envs/neuralign.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        models=model_rows(),
        # why a model without a published top-1 has none (workflow/rules/imagenet_common.smk)
        top1_unavailable=lambda wildcards: TOP1_UNAVAILABLE,
    script:
        "../scripts/scores.py"
