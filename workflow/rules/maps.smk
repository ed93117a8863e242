include: "maps_common.smk"


rule arcaro_dataset:
    input:
        archive=ARCARO_ARCHIVE,
    output:
        dataset_path="results/datasets/arcaro2020_{monkey}.nc",
        image_dir=directory("results/datasets/arcaro2020_{monkey}/images"),
    log:
        "results/logs/datasets/arcaro2020_{monkey}.log",
    benchmark:
        "results/benchmarks/datasets/arcaro2020_{monkey}.tsv"
    wildcard_constraints:
        monkey=one_of(monkey.lower() for monkey in MONKEYS),
    conda:
        "../../envs/neuralign.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        monkey=lambda wildcards: wildcards.monkey.capitalize(),
        window=MAPS["arcaro2020_window"],
        lock=DOWNLOAD_LOCK,
    script:
        "../scripts/arcaro_dataset.py"


rule map_fit:
    input:
        dataset_path="results/datasets/{dataset}.nc",
        images="results/datasets/{dataset}/images",
        activations_path="results/activations/{dataset}/{model}.nc",
        weights=model_weights,
    output:
        out_path="results/maps/{dataset}/{model}.nc",
    log:
        "results/logs/maps/{dataset}/{model}.log",
    benchmark:
        "results/benchmarks/maps/{dataset}/{model}.tsv"
    wildcard_constraints:
        dataset=one_of(MAP_DATASETS),
    conda:
        "../../envs/neuralign.yaml"
    # many small fits: one thread per job, models in parallel
    threads: 1
    resources:
        mem_mb=8000,
        runtime=120,
        gpu=gpus(MAPS["device"]),
    params:
        source=lambda wildcards: MODEL_TABLE.loc[wildcards.model, "source"],
        field=map_field,
        options=MAP_FIT_OPTIONS,
        image_size=config["activations"]["image_size"],
    script:
        "../scripts/map_fit.py"


rule map_scores:
    input:
        fit_paths=expand("results/maps/{{dataset}}/{model}.nc", model=MODELS),
        # measured top-1 of models without one in the table (workflow/rules/imagenet_common.smk)
        imagenet_paths=lambda wildcards: measured_top1_files(wildcards),
    output:
        out_path=report(
            "results/maps/{dataset}.csv",
            caption="../report/map_scores.rst",
            category="Maps",
        ),
    log:
        "results/logs/maps/{dataset}.log",
    benchmark:
        "results/benchmarks/maps/{dataset}.tsv"
    wildcard_constraints:
        dataset=one_of(MAP_DATASETS),
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
        "../scripts/map_scores.py"


rule figure_map_predictivity:
    input:
        table_path="results/maps/{dataset}.csv",
    output:
        png_path=report(
            "results/figures/{dataset}/map_predictivity.png",
            caption="../report/map_predictivity.rst",
            category="Figures",
            subcategory="{dataset}",
        ),
        pdf_path="results/figures/{dataset}/map_predictivity.pdf",
    log:
        "results/logs/figures/{dataset}/map_predictivity.log",
    benchmark:
        "results/benchmarks/figures/{dataset}/map_predictivity.tsv"
    wildcard_constraints:
        dataset=one_of(MAP_DATASETS),
    conda:
        "../../envs/neuralign.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        mapping=MAPS["mappings"][0],
        title=lambda wildcards: MAP_TITLES.get(wildcards.dataset, wildcards.dataset),
    script:
        "../scripts/figure_map_predictivity.py"


rule figure_map_panel:
    input:
        dataset_path="results/datasets/{dataset}.nc",
        images="results/datasets/{dataset}/images",
        fit_paths=expand("results/maps/{{dataset}}/{model}.nc", model=by_accuracy()),
    output:
        png_path=report(
            "results/figures/{dataset}/map_panel.png",
            caption="../report/map_panel.rst",
            category="Figures",
            subcategory="{dataset}",
        ),
        pdf_path="results/figures/{dataset}/map_panel.pdf",
    log:
        "results/logs/figures/{dataset}/map_panel.log",
    benchmark:
        "results/benchmarks/figures/{dataset}/map_panel.tsv"
    wildcard_constraints:
        dataset=one_of(MAP_DATASETS),
    conda:
        "../../envs/neuralign.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        labels=[panel_label(model) for model in by_accuracy()],
        mapping=MAPS["mappings"][0],
        n_images=MAPS["panel_images"],
    script:
        "../scripts/figure_map_panel.py"
