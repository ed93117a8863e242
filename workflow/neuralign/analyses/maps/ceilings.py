"""Summaries per electrode array and the two map ceilings: split-half reliability over
repetitions and the published neighbour ceiling."""

from __future__ import annotations

import numpy as np
import xarray as xr

from neuralign.fitting.metrics import (
    bootstrap_indices,
    half_means,
    pearson_columns,
    percentile_ci,
    spearman_brown,
    split_halves,
)


def array_summary(
    r: np.ndarray, arrays: np.ndarray, n_bootstrap: int, seed: int
) -> dict[str, np.ndarray]:
    """Per array: median over its neuroids of the mean r over images, and a 95% bootstrap CI
    over images. ``r`` is (image, neuroid); returns arrays over ``np.unique(arrays)``."""
    names = np.unique(arrays)
    idx = bootstrap_indices(r.shape[0], n_bootstrap, seed)
    low, high = [], []
    for name in names:
        sub = r[:, arrays == name]
        boot = np.nanmedian(np.nanmean(sub[idx], axis=1), axis=1)
        low_high = percentile_ci(boot)
        low.append(low_high[0])
        high.append(low_high[1])
    value = per_array(r, arrays)
    return {"array": names, "value": value, "low": np.array(low), "high": np.array(high)}


def per_array(values: np.ndarray, arrays: np.ndarray) -> np.ndarray:
    """Per array (in ``np.unique`` order): median over its neuroids of the mean over images of
    ``values`` (image, neuroid)."""
    return np.array(
        [np.nanmedian(np.nanmean(values[:, arrays == name], axis=0)) for name in np.unique(arrays)]
    )


def split_half_map_ceiling(repetitions: np.ndarray, n_splits: int, seed: int) -> np.ndarray:
    """Split-half reliability of the maps per (image, neuroid): the two half-means of random
    halvings of the repetitions correlated over positions, averaged over splits, corrected by
    Spearman–Brown. ``repetitions`` is (image, neuroid, y, x, repetition)."""
    n_images, n_neuroids = repetitions.shape[:2]
    flat = repetitions.reshape(n_images, n_neuroids, -1, repetitions.shape[-1])
    first, second = half_means(flat, split_halves(flat.shape[-1], n_splits, seed))
    r = pearson_columns(first, second, axis=3)  # (split, image, neuroid)
    return spearman_brown(r.mean(axis=0))


def neighbour_ceiling(maps: np.ndarray) -> np.ndarray:
    """The published alternative ceiling per (image, neuroid): the best Pearson r of the
    neuroid's map with any other neuroid's map of the same image (over positions)."""
    n_images, n_neuroids = maps.shape[:2]
    out = np.full((n_images, n_neuroids), np.nan)
    if n_neuroids < 2:
        return out
    for i in range(n_images):
        flat = maps[i].reshape(n_neuroids, -1)
        flat = flat[:, np.isfinite(flat).all(axis=0)]
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.corrcoef(flat)
        np.fill_diagonal(corr, -np.inf)
        out[i] = np.nanmax(corr, axis=1)
    return out


def most_reliable_neuroid(fit: xr.Dataset) -> int:
    """The neuroid with the highest mean ceiling over images (split-half where there are
    repetitions, else the neighbour ceiling)."""
    reliability = np.nanmean(fit["neighbour_ceiling_per_image"].values, axis=0)
    if "split_half_ceiling_per_image" in fit:
        reliability = np.nanmean(fit["split_half_ceiling_per_image"].values, axis=0)
    return int(np.nanargmax(reliability))
