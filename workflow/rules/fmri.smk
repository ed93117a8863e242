include: "fmri_common.smk"


if FMRI_SIMULATED:

    rule god_fmri_simulated:
        output:
            h5=expand(
                "{h5_dir}/{subject}.h5",
                h5_dir=FMRI["h5_dir"],
                subject=FMRI_SUBJECTS.values(),
            ),
            stimulus_dir=directory(FMRI["stimulus_dir"]),
        log:
            "results/logs/datasets/god_fmri_simulated.log",
        conda:
            "../../envs/neuralign.yaml"
        params:
            h5_dir=lambda wildcards, output: str(Path(output.h5[0]).parent),
            subjects=list(FMRI_SUBJECTS.values()),
            simulation=FMRI["simulated"],
        script:
            "../scripts/god_fmri_simulated.py"


rule god_fmri_dataset:
    input:
        subject_h5=lambda wildcards: f"{FMRI['h5_dir']}/{FMRI_SUBJECTS[wildcards.subject]}.h5",
        stimuli=FMRI["stimulus_dir"] or [],
    output:
        dataset_path="results/datasets/god_fmri_{subject}.nc",
        image_dir=directory("results/datasets/god_fmri_{subject}/images"),
    log:
        "results/logs/datasets/god_fmri_{subject}.log",
    benchmark:
        "results/benchmarks/datasets/god_fmri_{subject}.tsv"
    wildcard_constraints:
        subject=one_of(FMRI_SUBJECTS),
    conda:
        "../../envs/neuralign.yaml"
    threads: 1
    resources:
        mem_mb=8000,
    params:
        subject=lambda wildcards: FMRI_SUBJECTS[wildcards.subject],
        simulated=FMRI_SIMULATED,
        # the published files are pinned by trust on first use; SIMULATED ones are not
        lock=None if FMRI_SIMULATED else DOWNLOAD_LOCK,
    script:
        "../scripts/god_fmri_dataset.py"


rule fmri_activations:
    input:
        dataset_paths=expand(
            "results/datasets/god_fmri_{subject}.nc", subject=FMRI_SUBJECTS
        ),
        weights=fmri_model_weights,
    output:
        out_path="results/activations/god_fmri/{model}.nc",
    log:
        "results/logs/activations/god_fmri/{model}.log",
    benchmark:
        "results/benchmarks/activations/god_fmri/{model}.tsv"
    wildcard_constraints:
        model=one_of(FMRI_MODELS),
    conda:
        "../../envs/neuralign.yaml"
    threads: 1  # as activations
    resources:
        mem_mb=16000,
        runtime=120,
        gpu=gpus(config["activations"]["device"]),
    params:
        source=lambda wildcards: FMRI_MODELS[wildcards.model],
        layer_spec=lambda wildcards: FMRI["model_layers"].get(
            wildcards.model, FMRI["layers"]
        ),
        units=FMRI["units"],
        seed=FMRI["seed"],
        options=config["activations"],
    script:
        "../scripts/fmri_activations.py"


rule fmri_fit:
    input:
        dataset_path="results/datasets/god_fmri_{subject}.nc",
        activations_path="results/activations/god_fmri/{model}.nc",
    output:
        out_path="results/fmri/{subject}/{model}.nc",
    log:
        "results/logs/fmri/{subject}/{model}.log",
    benchmark:
        "results/benchmarks/fmri/{subject}/{model}.tsv"
    wildcard_constraints:
        subject=one_of(FMRI_SUBJECTS),
        model=one_of(FMRI_MODELS),
    conda:
        "../../envs/neuralign.yaml"
    threads: 1  # as activations
    resources:
        mem_mb=16000,
        runtime=120,
        gpu=gpus(config["fitting"]["device"]),
    params:
        subject=lambda wildcards: FMRI_SUBJECTS[wildcards.subject],
        options={
            "rois": FMRI["rois"],
            "relative_alphas": config["fitting"]["relative_alphas"],
            "device": config["fitting"]["device"],
            "n_bootstrap": FMRI["n_bootstrap"],
            "bootstrap_seed": FMRI["bootstrap_seed"],
        },
    script:
        "../scripts/fmri_fit.py"


rule fmri_summary:
    input:
        fit_paths=expand(
            "results/fmri/{subject}/{model}.nc",
            subject=FMRI_SUBJECTS,
            model=FMRI_MODELS,
        ),
    output:
        summary_path=report(
            "results/fmri/summary.csv",
            caption="../report/fmri_summary.rst",
            category="fMRI",
        ),
        comparison_path=report(
            "results/fmri/comparison.csv",
            caption="../report/fmri_comparison.rst",
            category="fMRI",
        ),
    log:
        "results/logs/fmri/summary.log",
    benchmark:
        "results/benchmarks/fmri/summary.tsv"
    conda:
        "../../envs/neuralign.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        models=list(FMRI_MODELS),
    script:
        "../scripts/fmri_summary.py"


rule figure_fmri:
    input:
        summary_path="results/fmri/summary.csv",
        comparison_path="results/fmri/comparison.csv",
    output:
        png=report(
            "results/figures/fmri/roi_layer.png",
            caption="../report/fmri_roi_layer.rst",
            category="Figures",
            subcategory="fMRI",
        ),
        pdf="results/figures/fmri/roi_layer.pdf",
        encoding_png=report(
            "results/figures/fmri/roi_layer_encoding.png",
            caption="../report/fmri_roi_layer_encoding.rst",
            category="Figures",
            subcategory="fMRI",
        ),
        encoding_pdf="results/figures/fmri/roi_layer_encoding.pdf",
    log:
        "results/logs/figures/fmri/roi_layer.log",
    benchmark:
        "results/benchmarks/figures/fmri/roi_layer.tsv"
    conda:
        "../../envs/neuralign.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../scripts/figure_fmri.py"
