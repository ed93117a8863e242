"""Config and input functions of the alignment-metric panel (rules in alignment.smk)."""

PANEL_METRICS = config["metrics"]
# the panel scores response datasets (RDM-only datasets have no responses to fit)
METRIC_DATASETS = RESPONSE_DATASETS if PANEL_METRICS else []


def alignment_options():
    """The settings of the panel (``neuralign.fitting.alignment.base.AlignmentSpec.from_options``): splits,
    bootstrap seed and ridge/PLS settings from `fitting`, the rest from `metric_panel`.
    """
    fitting = config["fitting"]
    shared = (
        "cv",
        "train_size",
        "split_seed",
        "bootstrap_seed",
        "relative_alphas",
        "ridge_precision",
        "pls_components",
        "inner_folds",
        "device",
    )
    options = {key: fitting[key] for key in shared}
    own = dict(config["metric_panel"])
    for key in ("n_splits", "n_bootstrap"):
        if own[key] is None:
            own[key] = fitting[key]
    return {**options, **own}


def metric_fit_files(wildcards):
    """The alignment artifacts of every selected model on a dataset."""
    return expand(
        "results/alignment/{dataset}/{model}.nc",
        dataset=wildcards.dataset,
        model=MODELS,
    )


def metric_targets():
    """Outputs of the panel that `rule all` builds (none when `metrics` is empty)."""
    return expand(
        [
            "results/scores/{dataset}_metrics.csv",
            "results/tables/{dataset}/metric_trends.csv",
            "results/tables/{dataset}/metric_agreement.csv",
            "results/figures/{dataset}/metric_panel.png",
            "results/figures/{dataset}/metric_panel.pdf",
        ],
        dataset=METRIC_DATASETS,
    )
