rule demo_dataset:
    output:
        dataset="results/datasets/demo.nc",
        images=directory("results/datasets/demo/images"),
    log:
        "results/logs/datasets/demo.log",
    conda:
        "../../envs/neuralign.yaml"
    params:
        demo=config["demo"],
    script:
        "../scripts/demo_dataset.py"


rule ceiling:
    input:
        dataset="results/datasets/{dataset}.nc",
    output:
        ceiling="results/ceilings/{dataset}.nc",
    log:
        "results/logs/ceilings/{dataset}.log",
    conda:
        "../../envs/neuralign.yaml"
    params:
        n_splits=config["fitting"]["ceiling_splits"],
        seed=config["fitting"]["ceiling_seed"],
        n_bootstrap=config["fitting"]["n_bootstrap"],
    script:
        "../scripts/ceiling.py"
