rule activations:
    input:
        dataset_path="results/datasets/{dataset}.nc",
        images="results/datasets/{dataset}/images",
        # the model's weights file, if it reads one: downloaded, or built by rule harmonize
        weights=model_weights,
    output:
        out_path="results/activations/{dataset}/{model}.nc",
    log:
        "results/logs/activations/{dataset}/{model}.log",
    benchmark:
        "results/benchmarks/activations/{dataset}/{model}.tsv"
    wildcard_constraints:
        dataset=one_of(DATASETS + FIT_DATASETS + MAP_DATASETS),
    conda:
        "../../envs/neuralign.yaml"
    # one thread: small jobs run side by side (the demo on 2 cores: 13 min with 2 threads
    # each, 10 min with 1); `--set-threads activations=N` gives a job more
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=gpus(config["activations"]["device"]),
    params:
        source=lambda wildcards: MODEL_TABLE.loc[wildcards.model, "source"],
        layer_spec=model_layers,
        options=activation_options,
    script:
        "../scripts/activations.py"
