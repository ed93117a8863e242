include: "alignment_common.smk"


rule alignment_ceilings:
    input:
        dataset_path="results/datasets/{dataset}.nc",
    output:
        out_path="results/ceilings/{dataset}_metrics.nc",
    log:
        "results/logs/ceilings/{dataset}_metrics.log",
    benchmark:
        "results/benchmarks/ceilings/{dataset}_metrics.tsv"
    wildcard_constraints:
        dataset=one_of(METRIC_DATASETS),
    conda:
        "../../envs/neuralign.yaml"
    # one thread: the panel is many small decompositions and per-resample evaluations, which
    # multithreaded BLAS slows down (20x measured on a shared 2-core machine); jobs run side by side
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        metrics=PANEL_METRICS,
        options=alignment_options(),
    script:
        "../scripts/alignment_ceilings.py"


rule alignment_fit:
    input:
        # the activations rule fit reads (extracted once)
        activations_path="results/activations/{dataset}/{model}.nc",
        dataset_path="results/datasets/{dataset}.nc",
        ceilings_path="results/ceilings/{dataset}_metrics.nc",
    output:
        out_path="results/alignment/{dataset}/{model}.nc",
    log:
        "results/logs/alignment/{dataset}/{model}.log",
    benchmark:
        "results/benchmarks/alignment/{dataset}/{model}.tsv"
    wildcard_constraints:
        dataset=one_of(METRIC_DATASETS),
    conda:
        "../../envs/neuralign.yaml"
    threads: 1  # as alignment_ceilings
    resources:
        mem_mb=8000,
        runtime=120,
        gpu=gpus(config["fitting"]["device"]),
    params:
        metrics=PANEL_METRICS,
        options=alignment_options(),
    script:
        "../scripts/alignment_fit.py"


rule metric_scores:
    input:
        fit_paths=metric_fit_files,
        # measured top-1 of models without one in the table (workflow/rules/imagenet_common.smk)
        imagenet_paths=lambda wildcards: measured_top1_files(wildcards),
    output:
        out_path=report(
            "results/scores/{dataset}_metrics.csv",
            caption="../report/metric_scores.rst",
            category="Scores",
        ),
    log:
        "results/logs/scores/{dataset}_metrics.log",
    benchmark:
        "results/benchmarks/scores/{dataset}_metrics.tsv"
    wildcard_constraints:
        dataset=one_of(METRIC_DATASETS),
    conda:
        "../../envs/neuralign.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        models=model_rows(),
    script:
        "../scripts/metric_scores.py"


rule metric_trends:
    input:
        scores_path="results/scores/{dataset}_metrics.csv",
    output:
        out_path=report(
            "results/tables/{dataset}/metric_trends.csv",
            caption="../report/metric_trends.rst",
            category="Tables",
            subcategory="{dataset}",
        ),
    log:
        "results/logs/tables/{dataset}/metric_trends.log",
    benchmark:
        "results/benchmarks/tables/{dataset}/metric_trends.tsv"
    conda:
        "../../envs/neuralign.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        n_bootstrap=config["fitting"]["n_bootstrap"],
        seed=config["fitting"]["bootstrap_seed"],
    script:
        "../scripts/metric_trends.py"


rule metric_agreement:
    input:
        scores_path="results/scores/{dataset}_metrics.csv",
    output:
        out_path=report(
            "results/tables/{dataset}/metric_agreement.csv",
            caption="../report/metric_agreement.rst",
            category="Tables",
            subcategory="{dataset}",
        ),
    log:
        "results/logs/tables/{dataset}/metric_agreement.log",
    benchmark:
        "results/benchmarks/tables/{dataset}/metric_agreement.tsv"
    conda:
        "../../envs/neuralign.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../scripts/metric_agreement.py"


rule figure_metric_panel:
    input:
        table_path="results/scores/{dataset}_metrics.csv",
    output:
        png_path=report(
            "results/figures/{dataset}/metric_panel.png",
            caption="../report/metric_panel.rst",
            category="Figures",
            subcategory="{dataset}",
        ),
        pdf_path="results/figures/{dataset}/metric_panel.pdf",
    log:
        "results/logs/figures/{dataset}/metric_panel.log",
    benchmark:
        "results/benchmarks/figures/{dataset}/metric_panel.tsv"
    conda:
        "../../envs/neuralign.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        title=lambda wildcards: DATASET_TITLES.get(wildcards.dataset, wildcards.dataset),
    script:
        "../scripts/figure_metric_panel.py"
