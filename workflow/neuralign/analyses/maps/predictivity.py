"""Map predictivity: how well a layer's spatial features predict IT response maps.

A map dataset holds ``maps(stimulus, neuroid, y, x)``: the response when image point (y, x)
(degrees from the image centre) lay over the receptive field. The model sees each image once,
on grey, in a field of view of ``field`` degrees centred on the image that covers every grid
position (``field_degrees``). A layer's feature map of that view, (channel, h, w), is sampled
bilinearly at the grid positions (``sample_at_positions``), so every grid position of every
image is one sample: channels → neuroids, one linear mapping shared by all positions.

Scoring (``fit_map_model``): leave one image out. For each held-out image, every layer is
fitted (ridge with one alpha per neuroid by leave-one-out over the training samples, or PLS)
on the other images and scored by Pearson r per neuroid over the held-out image's positions.
The layer used for the held-out image is chosen by a nested leave-one-image-out over the
*training* images only (median over neuroids of the mean inner r); the held-out image never
influences which layer is reported. Summaries per array: median over neuroids of the mean r
over held-out images, with 95% bootstrap CIs over images.

Ceilings: the split-half Spearman–Brown reliability of the maps over repetitions (where
repetitions exist), and, beside it, the published alternative: per image, a neuroid's best
map correlation with any other neuroid, averaged over images.

Unlike the published reference code, images are normalised by the ImageNet mean *and std*
(``preprocessing.brainscore_transform``), no min-max normalisation is applied anywhere (Pearson
and Spearman do not need one), and the layer is never picked on test scores. Ridge alphas are
chosen by leave-one-out over the training samples (positions of the training images), so they
never see the held-out image either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

import neuralign
from neuralign.analyses.maps.ceilings import (
    array_summary,
    neighbour_ceiling,
    per_array,
    split_half_map_ceiling,
)
from neuralign.analyses.maps.geometry import design, sample_at_positions
from neuralign.fitting import mappings
from neuralign.fitting.mappings import MappingSpec
from neuralign.fitting.metrics import pearson_columns


def inner_score(x: np.ndarray, y: np.ndarray, image: np.ndarray, spec: MappingSpec) -> float:
    """Leave-one-image-out score of one layer on training samples: median over neuroids of
    the mean r over the left-out images."""
    images = np.unique(image)
    r = []
    for held in images:
        fit = mappings.fit(spec, x[image != held], y[image != held], inner=False).linear()
        r.append(pearson_columns(fit.predict(x[image == held]), y[image == held]))
    return float(np.nanmedian(np.nanmean(np.stack(r), axis=0)))


def loio(
    features: Mapping[str, np.ndarray], y: np.ndarray, image: np.ndarray, spec: MappingSpec
) -> dict:
    """Nested leave-one-image-out over the samples of every layer.

    ``features`` maps layer → (sample, C); ``y`` is (sample, neuroid); ``image`` the image of
    each sample. Returns test r (layer, image, neuroid), inner scores (layer, image) computed
    on the training images of each fold only, the chosen layer index per image, the chosen
    layer's held-out predictions (sample, neuroid) and its fits per image.
    """
    layers, images = list(features), np.unique(image)
    if len(images) < 3:
        raise ValueError(
            f"nested leave-one-image-out needs at least 3 images with maps, got {len(images)}"
        )
    r = np.empty((len(layers), len(images), y.shape[1]))
    inner = np.empty((len(layers), len(images)))
    predictions = np.empty((len(layers), *y.shape))
    fits = [[None] * len(images) for _ in layers]
    for li, layer in enumerate(layers):
        x = np.asarray(features[layer], dtype=np.float64)
        for k, held in enumerate(images):
            train, test = image != held, image == held
            inner[li, k] = inner_score(x[train], y[train], image[train], spec)
            fits[li][k] = mappings.fit(spec, x[train], y[train], inner=False).linear()
            predictions[li, test] = fits[li][k].predict(x[test])
            r[li, k] = pearson_columns(predictions[li, test], y[test])
    chosen = inner.argmax(axis=0)
    selected = np.empty_like(y, dtype=np.float64)
    for k, held in enumerate(images):
        selected[image == held] = predictions[chosen[k], image == held]
    return {
        "r": r,
        "inner": inner,
        "chosen": chosen,
        "predictions": selected,
        "fits": [fits[c][k] for k, c in enumerate(chosen)],
    }


def fit_map_model(
    layer_maps: Mapping[str, np.ndarray],
    maps: np.ndarray,
    y_deg: np.ndarray,
    x_deg: np.ndarray,
    field: float,
    arrays: np.ndarray,
    mappings: Sequence[MappingSpec],
    *,
    repetitions: np.ndarray | None = None,
    ceiling_splits: int = 10,
    ceiling_seed: int = 0,
    n_bootstrap: int = 1000,
    bootstrap_seed: int = 0,
) -> tuple[xr.Dataset, dict]:
    """Score one model's layers on one map dataset; the maps artifact (without coords of the
    dataset) and, per mapping kind, the ``loio`` result (for attribution and figures).

    ``layer_maps`` maps layer → (image, C, h, w) spatial features of the ``field``-degree view;
    ``maps`` is (image, neuroid, y, x); ``arrays`` the array of each neuroid.
    """
    samples = {
        layer: sample_at_positions(values, y_deg, x_deg, field)
        for layer, values in layer_maps.items()
    }
    layers = list(samples)
    _, target, image, position = design(samples[layers[0]], maps)
    features = {layer: design(values, maps)[0] for layer, values in samples.items()}
    n_images, n_neuroids, n_y, n_x = maps.shape
    kinds = [spec.kind for spec in mappings]
    results = {spec.kind: loio(features, target, image, spec) for spec in mappings}

    names = np.unique(arrays)
    data = {
        "r": (
            ("mapping", "layer", "stimulus", "neuroid"),
            np.stack([results[k]["r"] for k in kinds]),
        ),
        "inner_score": (
            ("mapping", "layer", "stimulus"),
            np.stack([results[k]["inner"] for k in kinds]),
        ),
        "chosen_layer": (
            ("mapping", "stimulus"),
            np.array([[layers[c] for c in results[k]["chosen"]] for k in kinds]),
        ),
    }
    r_selected = np.stack(
        [
            np.stack([results[k]["r"][c, i] for i, c in enumerate(results[k]["chosen"])])
            for k in kinds
        ]
    )
    data["r_selected"] = (("mapping", "stimulus", "neuroid"), r_selected)
    predicted = np.full((len(kinds), n_images, n_neuroids, n_y * n_x), np.nan)
    for m, k in enumerate(kinds):
        predicted[m, image, :, position] = results[k]["predictions"]
    data["predicted_maps"] = (
        ("mapping", "stimulus", "neuroid", "y", "x"),
        predicted.reshape(len(kinds), n_images, n_neuroids, n_y, n_x).astype(np.float32),
    )
    summaries = [array_summary(r, arrays, n_bootstrap, bootstrap_seed) for r in r_selected]
    for key in ("value", "low", "high"):
        name = {"value": "raw", "low": "raw_ci_low", "high": "raw_ci_high"}[key]
        data[name] = (("mapping", "array"), np.stack([s[key] for s in summaries]))

    neighbour = neighbour_ceiling(maps)
    data["neighbour_ceiling_per_image"] = (("stimulus", "neuroid"), neighbour)
    data["neighbour_ceiling"] = ("array", per_array(neighbour, arrays))
    if repetitions is not None:
        split_half = split_half_map_ceiling(repetitions, ceiling_splits, ceiling_seed)
        data["split_half_ceiling_per_image"] = (("stimulus", "neuroid"), split_half)
        summary = array_summary(split_half, arrays, n_bootstrap, bootstrap_seed)
        data["split_half_ceiling"] = ("array", summary["value"])
        data["split_half_ceiling_ci_low"] = ("array", summary["low"])
        data["split_half_ceiling_ci_high"] = ("array", summary["high"])
    ds = xr.Dataset(
        data,
        coords={"mapping": kinds, "layer": layers, "array": names},
        attrs={
            "field_degrees": field,
            "cross_validation": "leave one image out; every grid position of an image is a "
            "sample; r per neuroid over the held-out image's positions",
            "layer_selection": "per held-out image, best median (over neuroids) mean r of an "
            "inner leave-one-image-out on the training images only",
            "summary": "raw: median over the array's neuroids of the mean r over held-out "
            "images; CI: 95% percentile bootstrap over images",
            "ceilings": "split_half_ceiling: Spearman-Brown corrected split-half reliability "
            f"over repetitions ({ceiling_splits} splits, seed {ceiling_seed}), per image over "
            "positions, averaged over images, median over neuroids; neighbour_ceiling (the "
            "published alternative): per image the best map correlation of a neuroid with any "
            "other neuroid, averaged over images, median over neuroids",
            "n_bootstrap": n_bootstrap,
            "bootstrap_seed": bootstrap_seed,
            "neuralign_version": neuralign.__version__,
        },
    )
    return ds, results
