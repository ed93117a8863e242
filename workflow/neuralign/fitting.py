"""Cross-validated encoding scores with the layer chosen inside each training fold.

For every outer split and layer, a ridge mapping (one alpha per neuroid, exact leave-one-out
over the training stimuli) is fitted on the training stimuli and scored by Pearson r per
neuroid on the held-out stimuli. The layer used for a split is the one whose leave-one-out
predictions on that split's *training* stimuli correlate best (median over neuroids), so the
held-out stimuli never influence which layer is reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

import neuralign
from neuralign.metrics import bootstrap_indices, ceiled_score, pearson_columns, percentile_ci, sem
from neuralign.ridge import fit_ridge_loo


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


def repetition_mean(responses: np.ndarray) -> np.ndarray:
    """Mean over the last (repetition) axis, ignoring missing repetitions."""
    return np.nanmean(responses, axis=-1)


def score_layers(
    features: Mapping[str, np.ndarray],
    targets: np.ndarray,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    relative_alphas: Sequence[float],
    device: str = "cpu",
) -> dict[str, np.ndarray]:
    """Test r (layer, split, neuroid), training-fold LOO score (layer, split), alphas."""
    layers = list(features)
    shape = (len(layers), len(splits), targets.shape[1])
    out = {"r": np.empty(shape), "alpha": np.empty(shape), "inner": np.empty(shape[:2])}
    for li, layer in enumerate(layers):
        x = np.asarray(features[layer], dtype=np.float64)
        for si, (train, test) in enumerate(splits):
            scale = _mean_squared_singular_value(x[train])
            fit = fit_ridge_loo(
                x[train], targets[train], np.asarray(relative_alphas) * scale, device=device
            )
            out["r"][li, si] = pearson_columns(fit.predict(x[test]), targets[test])
            out["alpha"][li, si] = fit.alpha
            out["inner"][li, si] = np.nanmedian(
                pearson_columns(fit.loo_predictions, targets[train])
            )
    return out


def _mean_squared_singular_value(x: np.ndarray) -> float:
    """Mean eigenvalue of the centred Gram matrix: the scale of a relative alpha grid."""
    xc = x - x.mean(axis=0)
    return float((xc * xc).sum() / min(xc.shape))


def summarize(
    r_selected: np.ndarray,
    ceiling: np.ndarray,
    formula: str,
    n_bootstrap: int,
    seed: int,
) -> dict[str, float]:
    """Raw, ceiling and ceiled summaries with SEM over splits and bootstrap CIs over neuroids.

    ``r_selected`` is (split, neuroid) test r with the fold's chosen layer; ``ceiling`` is
    the per-neuroid split-half ceiling.
    """
    per_split = np.nanmedian(r_selected, axis=1)
    raw, ceil = float(per_split.mean()), float(np.nanmedian(ceiling))
    idx = bootstrap_indices(r_selected.shape[1], n_bootstrap, seed)
    raw_boot = np.nanmedian(r_selected[:, idx], axis=2).mean(axis=0)
    ceil_boot = np.nanmedian(ceiling[idx], axis=1)
    raw_ci = percentile_ci(raw_boot)
    ceiled_ci = percentile_ci(ceiled_score(raw_boot, ceil_boot, formula))
    return {
        "raw": raw,
        "raw_sem": float(sem(per_split)),
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
    relative_alphas: Sequence[float],
    formula: str,
    n_bootstrap: int,
    bootstrap_seed: int,
    device: str = "cpu",
) -> xr.Dataset:
    """Score one model on one dataset; the fits artifact as an xarray Dataset."""
    targets = repetition_mean(responses)
    splits = shuffle_splits(len(targets), strata, n_splits, train_size, split_seed)
    scores = score_layers(features, targets, splits, relative_alphas, device)
    chosen = scores["inner"].argmax(axis=0)  # per split, from training stimuli only
    r_selected = scores["r"][chosen, np.arange(len(splits))]
    summary = summarize(r_selected, ceiling, formula, n_bootstrap, bootstrap_seed)
    layers = list(features)
    dims = ("layer", "split", "neuroid")
    ds = xr.Dataset(
        {
            "r": (dims, scores["r"]),
            "alpha": (dims, scores["alpha"]),
            "inner_score": (("layer", "split"), scores["inner"]),
            "chosen_layer": ("split", [layers[i] for i in chosen]),
            "r_selected": (("split", "neuroid"), r_selected),
            "ceiling_per_neuroid": ("neuroid", ceiling),
            **{name: ((), value) for name, value in summary.items()},
        },
        coords={"layer": layers, "split": np.arange(len(splits))},
    )
    ds.attrs.update(
        ceiling_formula=formula,
        mapping="ridge, one alpha per neuroid by exact leave-one-out on the training stimuli",
        relative_alphas=list(map(float, relative_alphas)),
        cross_validation=f"{n_splits} {'stratified ' if strata is not None else ''}shuffle "
        f"splits, train {train_size}, seed {split_seed}",
        layer_selection="per split, best median leave-one-out r on the training stimuli",
        neuralign_version=neuralign.__version__,
    )
    return ds
