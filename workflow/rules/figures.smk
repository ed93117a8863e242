rule figure_accuracy_vs_predictivity:
    input:
        scores="results/scores/{dataset}.csv",
    output:
        png=report(
            "results/figures/{dataset}/accuracy_vs_predictivity.png",
            caption="../report/accuracy_vs_predictivity.rst",
            category="Figures",
            subcategory="{dataset}",
        ),
        pdf="results/figures/{dataset}/accuracy_vs_predictivity.pdf",
    log:
        "results/logs/figures/{dataset}/accuracy_vs_predictivity.log",
    conda:
        "../../envs/neuralign.yaml"
    params:
        title=lambda wildcards: DATASET_TITLES.get(wildcards.dataset, wildcards.dataset),
    script:
        "../scripts/figure_accuracy_vs_predictivity.py"
