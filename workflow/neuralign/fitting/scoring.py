"""Cross-validated encoding scores with the layer chosen inside each training fold.

For every outer split and layer, a ridge mapping (one alpha per neuroid, exact leave-one-out
over the training stimuli) is fitted on the training stimuli and scored by Pearson r per
neuroid on the held-out stimuli. The layer used for a split is the one whose leave-one-out
predictions on that split's *training* stimuli correlate best (median over neuroids), so the
held-out stimuli never influence which layer is reported.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr
from sklearn.model_selection import (
    KFold,
    LeaveOneOut,
    ShuffleSplit,
    StratifiedKFold,
    StratifiedShuffleSplit,
)

import neuralign
from neuralign.fitting import mappings, rsa
from neuralign.fitting.mappings import MappingSpec
from neuralign.fitting.metrics import (
    bootstrap_indices,
    ceiled_score,
    pearson_columns,
    percentile_ci,
    sem,
)


def shuffle_splits(
    n_stimuli: int, strata: Sequence | None, n_splits: int, train_size: float, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Brain-Score's outer splits: shuffle splits (train/test index arrays), stratified by
    ``strata`` (e.g. object) when given."""
    kwargs = {"n_splits": n_splits, "train_size": train_size, "random_state": seed}
    if strata is None:
        return list(ShuffleSplit(**kwargs).split(np.zeros(n_stimuli)))
    n_test, n_strata = n_stimuli - int(np.floor(train_size * n_stimuli)), len(np.unique(strata))
    if n_test < n_strata:
        raise ValueError(
            f"a stratified test set of {n_test} of {n_stimuli} stimuli cannot hold one stimulus "
            f"of each of {n_strata} objects; lower fitting.train_size or use more stimuli"
        )
    return list(StratifiedShuffleSplit(**kwargs).split(np.zeros(n_stimuli), np.asarray(strata)))


CV_SCHEMES = ("shuffle", "kfold", "loso")


def cv_splits(
    n_stimuli: int,
    strata: Sequence | None,
    scheme: str,
    n_splits: int,
    train_size: float,
    seed: int,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Outer splits: Brain-Score's shuffle splits, (stratified) k-fold, or leave one stimulus
    out. In k-fold and leave-one-out every stimulus is tested exactly once."""
    if scheme == "shuffle":
        return shuffle_splits(n_stimuli, strata, n_splits, train_size, seed)
    if scheme == "kfold":
        folds = (StratifiedKFold if strata is not None else KFold)(
            n_splits, shuffle=True, random_state=seed
        )
        labels = np.zeros(n_stimuli) if strata is None else np.asarray(strata)
        return list(folds.split(np.zeros(n_stimuli), labels))
    if scheme == "loso":
        return list(LeaveOneOut().split(np.zeros(n_stimuli)))
    raise ValueError(f"unknown cross-validation {scheme!r}; valid: {', '.join(CV_SCHEMES)}")


def repetition_mean(responses: np.ndarray) -> np.ndarray:
    """Mean over the last (repetition) axis, ignoring missing repetitions."""
    return np.nanmean(responses, axis=-1)


def score_layers(
    features: Mapping[str, np.ndarray],
    targets: np.ndarray,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    mapping: MappingSpec,
) -> dict[str, np.ndarray]:
    """Per layer and split: test predictions, training-stimuli score (layer, split) and alphas
    (layer, split, neuroid)."""
    layers = list(features)
    shape = (len(layers), len(splits), targets.shape[1])
    out = {
        "alpha": np.empty(shape),
        "inner": np.empty(shape[:2]),
        "predictions": [[None] * len(splits) for _ in layers],
    }
    for li, layer in enumerate(layers):
        x = np.asarray(features[layer], dtype=np.float64)
        for si, (train, test) in enumerate(splits):
            fitted = mappings.fit(mapping, x[train], targets[train])
            out["predictions"][li][si] = fitted.predict(x[test])
            out["alpha"][li, si] = fitted.alpha
            out["inner"][li, si] = np.nanmedian(pearson_columns(fitted.inner, targets[train]))
    return out


def test_correlations(
    predictions: Sequence[np.ndarray],
    targets: np.ndarray,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    pooled: bool,
) -> np.ndarray:
    """Pearson r per neuroid on held-out stimuli: per split (split, neuroid), or once over the
    pooled held-out predictions (1, neuroid) when every stimulus is tested once."""
    if pooled:
        test = np.concatenate([test for _, test in splits])
        return pearson_columns(np.concatenate(predictions), targets[test])[None]
    return np.stack(
        [
            pearson_columns(pred, targets[test])
            for pred, (_, test) in zip(predictions, splits, strict=True)
        ]
    )


def stimulus_bootstrap(
    predictions: Sequence[np.ndarray],
    targets: np.ndarray,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    pooled: bool,
    n_bootstrap: int,
    seed: int,
) -> np.ndarray:
    """Raw scores (mean over splits of the median r over neuroids) with the held-out stimuli
    resampled with replacement, within each split (or over the pooled predictions)."""
    chunks = list(zip(predictions, [test for _, test in splits], strict=True))
    if pooled:
        chunks = [(np.concatenate(predictions), np.concatenate([t for _, t in splits]))]
    rng = np.random.default_rng(seed)
    samples = np.empty(n_bootstrap)
    for b in range(n_bootstrap):
        medians = []
        for pred, test in chunks:
            pick = rng.integers(0, len(test), len(test))
            medians.append(np.nanmedian(pearson_columns(pred[pick], targets[test][pick])))
        samples[b] = np.mean(medians)
    return samples


def summarize(
    r_selected: np.ndarray,
    ceiling: np.ndarray,
    formula: str,
    n_bootstrap: int,
    seed: int,
) -> dict[str, float]:
    """Raw, ceiling and ceiled summaries with SEM over splits and bootstrap CIs over neuroids.

    ``r_selected`` is (split, neuroid) test r with the fold's chosen layer (one row when
    pooled); ``ceiling`` is the per-neuroid ceiling, all NaN when the dataset has none (then
    the ceiling and ceiled summaries are NaN and the raw ones unchanged).
    """
    per_split = np.nanmedian(r_selected, axis=1)
    idx = bootstrap_indices(r_selected.shape[1], n_bootstrap, seed)
    raw_boot = np.nanmedian(r_selected[:, idx], axis=2).mean(axis=0)
    raw, raw_ci = float(per_split.mean()), percentile_ci(raw_boot)
    with warnings.catch_warnings():  # no ceiling (all NaN): NaN ceiled summaries
        warnings.simplefilter("ignore", RuntimeWarning)
        ceil = float(np.nanmedian(ceiling))
        ceil_boot = np.nanmedian(ceiling[idx], axis=1)
        ceiled_ci = percentile_ci(ceiled_score(raw_boot, ceil_boot, formula))
    return {
        "raw": raw,
        "raw_sem": float(sem(per_split)) if len(per_split) > 1 else np.nan,
        "raw_ci_low": float(raw_ci[0]),
        "raw_ci_high": float(raw_ci[1]),
        "ceiling": ceil,
        "ceiled": float(ceiled_score(raw, ceil, formula)),
        "ceiled_ci_low": float(ceiled_ci[0]),
        "ceiled_ci_high": float(ceiled_ci[1]),
    }


def fit_model(
    features: Mapping[str, np.ndarray],
    responses: np.ndarray,
    strata: Sequence | None,
    ceiling: np.ndarray,
    *,
    n_splits: int,
    train_size: float,
    split_seed: int,
    mapping: MappingSpec,
    formula: str,
    n_bootstrap: int,
    bootstrap_seed: int,
    cv: str = "shuffle",
    fixed_layer: tuple[str, str] | None = None,
) -> xr.Dataset:
    """Score one model on one dataset; the fits artifact as an xarray Dataset.

    With ``cv="loso"`` the held-out predictions of all folds are pooled into one correlation
    per neuroid (a single stimulus has none); otherwise r is computed per split. The layer is
    chosen per split on the training stimuli, unless ``fixed_layer`` = (layer, dataset) gives
    the one chosen on another dataset (Brain-Score's scheme, for comparison).
    """
    targets = repetition_mean(responses)
    splits = cv_splits(len(targets), strata, cv, n_splits, train_size, split_seed)
    pooled = cv == "loso"
    scores = score_layers(features, targets, splits, mapping)
    layers = list(features)
    if fixed_layer:
        if fixed_layer[0] not in layers:
            raise ValueError(
                f"layer {fixed_layer[0]!r} chosen on {fixed_layer[1]!r} is not one "
                f"of this model's extracted layers {layers}"
            )
        chosen = np.full(len(splits), layers.index(fixed_layer[0]))
        selection = f"Brain-Score's scheme: layer {fixed_layer[0]} chosen on {fixed_layer[1]}"
    else:
        chosen = scores["inner"].argmax(axis=0)  # per split, from training stimuli only
        selection = "per split, best median out-of-sample r on the training stimuli"
    selected = [scores["predictions"][c][s] for s, c in enumerate(chosen)]
    r = np.stack([test_correlations(p, targets, splits, pooled) for p in scores["predictions"]])
    r_selected = test_correlations(selected, targets, splits, pooled)
    summary = summarize(r_selected, ceiling, formula, n_bootstrap, bootstrap_seed)
    stimulus_ci = percentile_ci(
        stimulus_bootstrap(selected, targets, splits, pooled, n_bootstrap, bootstrap_seed)
    )
    summary.update(
        raw_ci_stimuli_low=float(stimulus_ci[0]), raw_ci_stimuli_high=float(stimulus_ci[1])
    )
    scored = np.arange(r.shape[1])  # splits, or the single pooled score
    ds = xr.Dataset(
        {
            "r": (("layer", "score_split", "neuroid"), r),
            "alpha": (("layer", "split", "neuroid"), scores["alpha"]),
            "inner_score": (("layer", "split"), scores["inner"]),
            "chosen_layer": ("split", [layers[i] for i in chosen]),
            "r_selected": (("score_split", "neuroid"), r_selected),
            "ceiling_per_neuroid": ("neuroid", ceiling),
            **{name: ((), value) for name, value in summary.items()},
        },
        coords={"layer": layers, "split": np.arange(len(splits)), "score_split": scored},
    )
    ds.attrs.update(
        ceiling_formula=formula,
        mapping=_describe(mapping),
        cross_validation=_describe_cv(cv, strata is not None, n_splits, train_size, split_seed),
        confidence_intervals="raw_ci/ceiled_ci: 95% bootstrap over neuroids; raw_ci_stimuli: "
        "95% bootstrap over held-out stimuli",
        layer_selection=selection,
        neuralign_version=neuralign.__version__,
    )
    return ds


def _describe_cv(cv: str, stratified: bool, n_splits: int, train_size: float, seed: int) -> str:
    strat = "stratified " if stratified else ""
    if cv == "shuffle":
        return f"{n_splits} {strat}shuffle splits, train {train_size}, seed {seed}"
    if cv == "kfold":
        return f"{n_splits}-fold {strat}cross-validation, seed {seed}"
    return "leave one stimulus out; held-out predictions pooled into one r per neuroid"


def _describe(mapping: MappingSpec) -> str:
    if mapping.kind == "pls":
        return (
            f"PLS regression, {mapping.pls_components} components, unscaled (NIPALS); "
            f"layers scored by {mapping.inner_folds}-fold predictions on training stimuli"
        )
    alphas = ", ".join(f"{a:g}" for a in mapping.relative_alphas)
    return (
        "ridge, one alpha per neuroid by exact leave-one-out on the training stimuli, "
        f"alphas relative to the mean Gram eigenvalue: {alphas}; {mapping.ridge_precision} "
        "precision"
    )


def fit_rsa_model(
    features: Mapping[str, np.ndarray],
    dataset: xr.Dataset,
    target: str,
    *,
    method: str,
    n_splits: int,
    seed: int,
) -> xr.Dataset:
    """Score one model on an RDM dataset: model RDM per layer against the ``target`` subject's
    RDM, the layer chosen on half of the stimuli and scored on the other half, ``n_splits``
    times. The ceiling is the Nili et al. (2014) upper bound over the individual subjects of the
    target's species, when there are two or more (NaN otherwise)."""
    subjects = dataset["subject"].values.tolist()
    if target not in subjects:
        raise ValueError(
            f"RSA target {target!r} is not a subject of dataset "
            f"{dataset.attrs['dataset']!r}; subjects: {subjects}"
        )
    layers = list(features)
    layer_rdms = {layer: rsa.rdm(values) for layer, values in features.items()}
    result = rsa.stimulus_split_scores(
        layer_rdms, dataset["rdm"].sel(subject=target).values, n_splits, seed, method
    )
    lower, upper = _rsa_ceiling(dataset, target, method)
    scores = result["scores"]
    low, high = percentile_ci(scores)
    summary = {
        "raw": float(scores.mean()),
        "raw_sem": float(sem(scores)),
        "raw_ci_low": float(low),
        "raw_ci_high": float(high),
        "ceiling": upper,
        "ceiling_lower": lower,
        "ceiled": scores.mean() / upper,
        "ceiled_ci_low": low / upper,
        "ceiled_ci_high": high / upper,
    }
    ds = xr.Dataset(
        {
            "held_out_score": (("layer", "split"), result["per_layer"]),
            "chosen_layer": ("split", [layers[i] for i in result["chosen"]]),
            "score_selected": ("split", scores),
            **{name: ((), float(value)) for name, value in summary.items()},
        },
        coords={"layer": layers, "split": np.arange(n_splits)},
    )
    ds.attrs.update(
        mapping=f"RSA: model RDMs (1 - Pearson) vs {target!r}, compared by {method}",
        ceiling_formula="r/c",
        ceiling_method="Nili et al. 2014 upper bound over individual subjects (ceiling_lower: "
        "lower bound)",
        cross_validation=f"{n_splits} random halvings of the stimuli, seed {seed}",
        layer_selection="per halving, best layer on one half of the stimuli, scored on the other",
        interval="CIs are the 2.5-97.5 percentiles over stimulus halvings",
        neuralign_version=neuralign.__version__,
    )
    return ds


def _rsa_ceiling(dataset: xr.Dataset, target: str, method: str) -> tuple[float, float]:
    if "species" not in dataset.coords or "level" not in dataset.coords:
        return np.nan, np.nan
    species = dataset["species"].sel(subject=target).item()
    individual = (dataset["species"] == species) & (dataset["level"] == "individual")
    if int(individual.sum()) < 2:
        return np.nan, np.nan
    return rsa.noise_ceiling(dataset["rdm"].sel(subject=individual).values, method)
