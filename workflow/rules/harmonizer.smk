include: "harmonizer_common.smk"


rule harmonize:
    input:
        clickme_train=harmonize_shards,
        base=base_weights,
    output:
        model_path="results/harmonizer/{run}/model.pt",
        history_path="results/harmonizer/{run}/history.csv",
    log:
        "results/logs/harmonizer/{run}.log",
    benchmark:
        "results/benchmarks/harmonizer/{run}.tsv"
    wildcard_constraints:
        run=one_of(list(HARMONIZER_RUNS)),
    conda:
        "../../envs/neuralign.yaml"
    threads: 2
    resources:
        mem_mb=16000,
        runtime=24 * 60,
        gpu=gpus(HARMONIZER["device"]),
    params:
        options=lambda wildcards: HARMONIZER_RUNS[wildcards.run],
        imagenet=lambda wildcards: (
            HARMONIZER["imagenet_train"]
            if HARMONIZER_RUNS[wildcards.run]["data"] == "clickme+imagenet"
            else None
        ),
        device=HARMONIZER["device"],
    script:
        "../scripts/harmonize.py"


rule human_alignment:
    input:
        shards=CLICKME_VAL,
        weights=model_weights,
    output:
        out_path="results/harmonizer/alignment/{model}.csv",
    log:
        "results/logs/harmonizer/alignment/{model}.log",
    benchmark:
        "results/benchmarks/harmonizer/alignment/{model}.tsv"
    conda:
        "../../envs/neuralign.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=120,
        gpu=gpus(HARMONIZER["device"]),
    params:
        source=lambda wildcards: MODEL_TABLE.loc[wildcards.model, "source"],
        options=HARMONIZER["alignment"],
        device=HARMONIZER["device"],
    script:
        "../scripts/human_alignment.py"


rule harmonizer_demo:
    output:
        summary_path="results/harmonizer/demo/summary.csv",
        png=report(
            "results/figures/harmonizer/demo.png",
            caption="../report/harmonizer_demo.rst",
            category="Harmonizer",
        ),
        pdf="results/figures/harmonizer/demo.pdf",
    log:
        "results/logs/harmonizer/demo.log",
    benchmark:
        "results/benchmarks/harmonizer/demo.tsv"
    conda:
        "../../envs/neuralign.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        options=HARMONIZER["demo"],
    script:
        "../scripts/harmonizer_demo.py"
