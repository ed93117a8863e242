rule figure_accuracy_vs_predictivity:
    input:
        table_path="results/scores/{dataset}.csv",
    output:
        png_path=report(
            "results/figures/{dataset}/accuracy_vs_predictivity.png",
            caption="../report/accuracy_vs_predictivity.rst",
            category="Figures",
            subcategory="{dataset}",
        ),
        pdf_path="results/figures/{dataset}/accuracy_vs_predictivity.pdf",
    log:
        "results/logs/figures/{dataset}/accuracy_vs_predictivity.log",
    benchmark:
        "results/benchmarks/figures/{dataset}/accuracy_vs_predictivity.tsv"
    conda:
        "../../envs/neuralign.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        title=lambda wildcards: DATASET_TITLES.get(wildcards.dataset, wildcards.dataset),
    script:
        "../scripts/figure_accuracy_vs_predictivity.py"


rule accuracy_correlations:
    input:
        scores_path="results/scores/{dataset}.csv",
    output:
        out_path=report(
            "results/tables/{dataset}/accuracy_correlations.csv",
            caption="../report/accuracy_correlations.rst",
            category="Tables",
            subcategory="{dataset}",
        ),
    log:
        "results/logs/tables/{dataset}/accuracy_correlations.log",
    benchmark:
        "results/benchmarks/tables/{dataset}/accuracy_correlations.tsv"
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
        "../scripts/accuracy_correlations.py"
