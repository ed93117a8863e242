"""Score one model on one response dataset with every selected alignment metric.

For each metric, split and layer the metric is computed on the held-out stimuli and on the
training stimuli; the layer reported for a split is the one with the best training value, so
held-out stimuli never choose it. Raw value = mean over splits of the chosen layer's held-out
value. Bootstrap CIs resample the held-out stimuli of every split (the same seeded resamples
for every metric, model and ceiling, so ceiled values are paired). Ceilings depend on the
neural data only: ``alignment_ceilings`` computes them once per dataset and ``score_alignment``
takes them (or computes them when not given).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

import neuralign
from neuralign.fitting.alignment.base import AlignmentSpec, Layer, Neural, Split
from neuralign.fitting.alignment.registry import METRICS
from neuralign.fitting.metrics import half_means, percentile_ci, sem, split_halves
from neuralign.fitting.scoring import cv_splits, repetition_mean


def check_metrics(metrics: Sequence[str]) -> list[str]:
    """The selected metric names, in order, each registered and given once."""
    unknown = [m for m in metrics if m not in METRICS]
    if unknown or not metrics or len(set(metrics)) != len(metrics):
        raise ValueError(
            f"metrics {list(metrics)}: give each of {', '.join(METRICS)} at most once "
            f"(unknown: {unknown})"
        )
    return list(metrics)


def neural_data(responses: np.ndarray, spec: AlignmentSpec) -> Neural:
    """Repetition means and the seeded halvings of ``responses`` (stimulus, neuroid, rep)."""
    responses = np.asarray(responses, dtype=np.float64)
    if responses.ndim != 3:
        raise ValueError(f"responses must be (stimulus, neuroid, repetition): {responses.shape}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all repetitions missing: NaN
        targets = repetition_mean(responses)
    empty = ~np.isfinite(targets)
    if empty.any():
        stimuli, neuroids = np.nonzero(empty)
        raise ValueError(
            f"{empty.sum()} (stimulus, neuroid) responses have no repetition (e.g. stimulus "
            f"{stimuli[0]}, neuroid {neuroids[0]}); drop those stimuli or neuroids"
        )
    if responses.shape[2] < 2:
        return Neural(targets, None)
    halvings = split_halves(responses.shape[2], spec.n_halvings, spec.halving_seed)
    return Neural(targets, half_means(responses, halvings))


def alignment_splits(n_stimuli: int, strata: Sequence | None, spec: AlignmentSpec) -> list[Split]:
    """The outer splits of ``neuralign.fitting.scoring.cv_splits``, each with its inner halving."""
    if spec.cv == "loso":
        raise ValueError(
            "the alignment panel needs held-out sets of several stimuli (CKA, RSA and "
            "Procrustes compare stimuli with each other); use cv 'shuffle' or 'kfold'"
        )
    outer = cv_splits(n_stimuli, strata, spec.cv, spec.n_splits, spec.train_size, spec.split_seed)
    return [Split.make(train, test, spec.inner_seed + i) for i, (train, test) in enumerate(outer)]


def bootstrap_picks(splits: Sequence[Split], spec: AlignmentSpec) -> list[np.ndarray]:
    """Per split, ``n_bootstrap`` seeded resamples (bootstrap, test stimulus) of the held-out
    stimuli, as indices into the split's test set."""
    rng = np.random.default_rng(spec.bootstrap_seed)
    return [rng.integers(0, len(s.test), (spec.n_bootstrap, len(s.test))) for s in splits]


def _settings(spec: AlignmentSpec, n_stimuli: int) -> str:
    return (
        f"cv {spec.cv}, {spec.n_splits} splits, train {spec.train_size}, split seed "
        f"{spec.split_seed}, inner seed {spec.inner_seed}, {spec.n_bootstrap} bootstrap "
        f"resamples (seed {spec.bootstrap_seed}), {spec.n_halvings} halvings (seed "
        f"{spec.halving_seed}), {n_stimuli} stimuli"
    )


def alignment_ceilings(
    responses: np.ndarray,
    strata: Sequence | None,
    metrics: Sequence[str],
    spec: AlignmentSpec,
) -> xr.Dataset:
    """Per metric and split the ceiling on held-out stimuli, and its bootstrap over them.

    Without repetitions (one per stimulus) no ceiling can be estimated: NaN with
    ``ceiling_available`` 0 and the reason in the attrs.
    """
    metrics = check_metrics(metrics)
    neural = neural_data(responses, spec)
    splits = alignment_splits(len(neural.targets), strata, spec)
    picks = bootstrap_picks(splits, spec)
    per_split = np.full((len(metrics), len(splits)), np.nan)
    boot = np.full((len(metrics), spec.n_bootstrap, len(splits)), np.nan)
    if neural.halves is not None:
        for mi, name in enumerate(metrics):
            for si, split in enumerate(splits):
                evaluate = METRICS[name].ceiling(neural, split, spec)
                per_split[mi, si] = evaluate(np.arange(len(split.test)))
                boot[mi, :, si] = evaluate(picks[si])
    available = neural.halves is not None
    return xr.Dataset(
        {
            "ceiling_per_split": (("metric", "split"), per_split),
            "ceiling_bootstrap": (("metric", "bootstrap"), boot.mean(axis=2)),
            "ceiling_available": ("metric", np.full(len(metrics), int(available), np.int8)),
            "ceiling_formula": ("metric", [METRICS[m].ceiling_formula for m in metrics]),
        },
        coords={"metric": metrics, "split": np.arange(len(splits))},
        attrs={
            "settings": _settings(spec, len(neural.targets)),
            "ceiling": "value of each metric for a model whose units are the noise-free "
            "responses, estimated from the means of two random halves of the repetitions "
            "(formula per metric in ceiling_formula)"
            if available
            else "not available: the dataset has one repetition per stimulus, so no "
            "split-half estimate is possible",
        },
    )


def score_alignment(
    features: Mapping[str, np.ndarray],
    responses: np.ndarray,
    strata: Sequence | None,
    metrics: Sequence[str],
    spec: AlignmentSpec,
    ceilings: xr.Dataset | None = None,
) -> xr.Dataset:
    """Score one model's layers (``features``: layer → (stimulus, feature)) on ``responses``
    (stimulus, neuroid, repetition) with each metric; the result as an xarray Dataset."""
    metrics = check_metrics(metrics)
    neural = neural_data(responses, spec)
    n_stimuli = len(neural.targets)
    if ceilings is None:
        ceilings = alignment_ceilings(responses, strata, metrics, spec)
    _check_ceilings(ceilings, metrics, spec, n_stimuli)
    splits = alignment_splits(n_stimuli, strata, spec)
    layers = list(features)
    gram_dtype = np.float32 if spec.mapping.ridge_precision == "mixed" else np.float64
    shape = (len(metrics), len(layers), len(splits))
    train_value, value = np.empty(shape), np.empty(shape)
    scored = np.empty(shape, dtype=object)
    for li, name in enumerate(layers):
        x = np.asarray(features[name], dtype=np.float64)
        if x.shape[0] != n_stimuli or x.ndim != 2:
            raise ValueError(f"layer {name!r}: features {x.shape} for {n_stimuli} stimuli")
        layer = Layer(x, gram_dtype)
        for mi, metric in enumerate(metrics):
            for si, split in enumerate(splits):
                result = METRICS[metric].score(layer, neural, split, spec)
                scored[mi, li, si] = result
                train_value[mi, li, si] = result.train
                value[mi, li, si] = result.test(np.arange(len(split.test)))
    chosen = _choose(train_value, metrics, layers)
    picks = bootstrap_picks(splits, spec)
    raw_boot = np.stack([_bootstrap(scored[mi], chosen[mi], picks) for mi in range(len(metrics))])
    ds = xr.Dataset(
        {
            "value": (("metric", "layer", "split"), value),
            "train_value": (("metric", "layer", "split"), train_value),
            "chosen_layer": (("metric", "split"), np.asarray(layers, dtype=object)[chosen]),
            "value_selected": (
                ("metric", "split"),
                np.take_along_axis(value, chosen[:, None, :], axis=1)[:, 0],
            ),
            "raw_bootstrap": (("metric", "bootstrap"), raw_boot),
            **{k: ("metric", [getattr(METRICS[m], k) for m in metrics]) for k in _TEXTS},
        },
        coords={"metric": metrics, "layer": layers, "split": np.arange(len(splits))},
    )
    kept = ceilings[["ceiling_per_split", "ceiling_bootstrap", "ceiling_available"]]
    ds = ds.merge(kept.sel(metric=metrics), join="exact")
    for name, column in _summaries(ds).items():
        ds[name] = ("metric", column)
    ds.attrs.update(
        settings=_settings(spec, n_stimuli),
        ceiling=ceilings.attrs["ceiling"],
        ceiled="raw / ceiling (every metric is oriented so that higher is more aligned)",
        confidence_intervals="95% percentile bootstrap over the held-out stimuli of every "
        "split (the same resamples for raw values, ceilings and every metric)",
        procrustes_distance="angular Procrustes distance = arccos(procrustes value)",
        neuralign_version=neuralign.__version__,
    )
    return ds


_TEXTS = ("value_definition", "ceiling_formula", "layer_selection", "units")


def _check_ceilings(ceilings: xr.Dataset, metrics, spec: AlignmentSpec, n_stimuli: int) -> None:
    missing = [m for m in metrics if m not in ceilings["metric"].values.tolist()]
    if missing or ceilings.attrs.get("settings") != _settings(spec, n_stimuli):
        raise ValueError(
            f"the ceilings were computed for other metrics ({missing} missing) or settings "
            f"({ceilings.attrs.get('settings')!r}, expected {_settings(spec, n_stimuli)!r}); "
            "recompute them with alignment_ceilings"
        )


def _choose(train_value: np.ndarray, metrics: Sequence[str], layers) -> np.ndarray:
    """Per metric and split, the layer with the best value on the training stimuli."""
    hopeless = np.isnan(train_value).all(axis=1)
    if hopeless.any():
        mi, si = np.argwhere(hopeless)[0]
        raise ValueError(
            f"metric {metrics[mi]!r}: no layer of {layers} has a finite value on the training "
            f"stimuli of split {si} (constant features or responses?)"
        )
    return np.nanargmax(train_value, axis=1)


def _bootstrap(scored: np.ndarray, chosen: np.ndarray, picks: Sequence[np.ndarray]) -> np.ndarray:
    """Raw value (mean over splits of the chosen layer's held-out value) per resample."""
    return np.mean([scored[layer, si].test(picks[si]) for si, layer in enumerate(chosen)], axis=0)


def _summaries(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """Raw, ceiling and ceiled values with their SEM over splits and bootstrap CIs."""
    raw = ds["value_selected"].values.mean(axis=1)
    ceiling = ds["ceiling_per_split"].values.mean(axis=1)
    raw_boot, ceiling_boot = ds["raw_bootstrap"].values, ds["ceiling_bootstrap"].values
    n_splits = ds.sizes["split"]
    out = {
        "raw": raw,
        "raw_sem": sem(ds["value_selected"].values, axis=1) if n_splits > 1 else raw * np.nan,
        "ceiling": ceiling,
        "ceiled": raw / ceiling,
    }
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # no ceiling: all-NaN samples
        for name, samples in (
            ("raw", raw_boot),
            ("ceiling", ceiling_boot),
            ("ceiled", raw_boot / ceiling_boot),
        ):
            out[f"{name}_ci_low"], out[f"{name}_ci_high"] = percentile_ci(samples, axis=1)
    return out
