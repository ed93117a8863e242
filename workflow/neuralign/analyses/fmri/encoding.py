"""The fMRI experiment: linear maps between GOD ROIs and sampled units of model layers.

For one subject and one model (``fit_subject``):

- voxel responses are averaged over repetitions (each training image is shown once, each test
  image 35 times in the published data); training images fit, test images score;
- **decoding**: for each ROI, a ridge mapping from the ROI's voxels to every sampled unit of
  every layer; **encoding**: for each layer, a ridge mapping from its units to every voxel
  (each voxel's map does not depend on the ROI, so ROIs only select voxels afterwards);
- source columns are z-scored with training-image statistics; ridge picks one alpha per target
  by exact leave-one-out on the training images (``neuralign.fitting.ridge``), so the test images
  never influence a fit;
- score: Pearson r per target on the test images; per ROI × layer the median over targets
  (units for decoding, the ROI's voxels for encoding; targets constant on the test images give
  NaN r and are left out of the median);
- uncertainty: the test images are resampled with replacement (``n_bootstrap`` draws from
  ``seed``) and every median is recomputed per draw. The draws depend only on the number of
  test images and the seed, so two models (and all subjects, who saw the same test images)
  share them: differences per draw give *paired* bootstrap distributions (``compare``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

import neuralign
from neuralign.analyses.fmri.statistics import bootstrap_counts, bootstrap_pearson, finite_median
from neuralign.datasets.god_fmri import ROIS
from neuralign.fitting import mappings
from neuralign.fitting.mappings import MappingSpec
from neuralign.fitting.metrics import pearson_columns
from neuralign.fitting.scoring import repetition_mean

TARGET_CHUNK = 2000  # targets fitted at once: bounds memory (images × targets arrays)


def zscore(x: np.ndarray, train: np.ndarray) -> np.ndarray:
    """Columns standardised by their mean and SD over the ``train`` rows (SD 0 → 1)."""
    mean, sd = x[train].mean(0), x[train].std(0)
    return (x - mean) / np.where(sd > 0, sd, 1.0)


def fit_subject(
    dataset: xr.Dataset,
    features: Mapping[str, np.ndarray],
    feature_stimuli: Sequence[str],
    *,
    rois: Sequence[str] = ROIS,
    mapping: MappingSpec | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> xr.Dataset:
    """Decoding and encoding scores of one subject's GOD dataset and one model's sampled units.

    ``features``: layer → (stimulus, unit) in ``feature_stimuli`` order (any superset of the
    dataset's stimuli); ``rois``: ROIs to score, those with no voxel are left out.
    """
    mapping = mapping or MappingSpec()
    voxels = repetition_mean(dataset["responses"].values.astype(np.float64))
    split = dataset["split"].values
    train, test = np.flatnonzero(split == "train"), np.flatnonzero(split == "test")
    if len(train) < 3 or len(test) < 3:
        raise ValueError(
            f"dataset {dataset.attrs.get('dataset')}: needs at least 3 training and 3 test "
            f"images, has {len(train)} and {len(test)}"
        )
    order = _align(dataset["stimulus_id"].values, feature_stimuli)
    layers = {
        layer: np.asarray(values)[order].astype(np.float64) for layer, values in features.items()
    }
    members = {roi: dataset[f"roi_{roi}"].values.astype(bool) for roi in rois}
    present = [roi for roi in rois if members[roi].any()]
    if not present:
        raise ValueError(
            f"dataset {dataset.attrs.get('dataset')}: none of the ROIs {rois} has voxels"
        )
    counts = bootstrap_counts(len(test), n_bootstrap, seed)
    n_units = max(values.shape[1] for values in layers.values())

    shape = (len(present), len(layers), n_units)
    dec_r, dec_alpha = np.full(shape, np.nan), np.full(shape, np.nan)
    dec_boot = np.full((len(present), len(layers), n_bootstrap), np.nan)
    for i, roi in enumerate(present):
        for j, units in enumerate(layers.values()):
            x = zscore(voxels[:, members[roi]], train)
            fitted = mappings.fit(mapping, x[train], units[train], max_targets=TARGET_CHUNK)
            pred, alpha = fitted.predict(x[test]), fitted.alpha
            dec_r[i, j, : units.shape[1]] = pearson_columns(pred, units[test])
            dec_alpha[i, j, : units.shape[1]] = alpha
            dec_boot[i, j] = finite_median(bootstrap_pearson(pred, units[test], counts))

    in_any = np.logical_or.reduce([members[roi] for roi in present])
    enc_r = np.full((len(layers), len(in_any)), np.nan)
    enc_alpha = np.full_like(enc_r, np.nan)
    enc_boot = np.full((len(present), len(layers), n_bootstrap), np.nan)
    for j, units in enumerate(layers.values()):
        x = zscore(units, train)
        fitted = mappings.fit(mapping, x[train], voxels[train][:, in_any], max_targets=TARGET_CHUNK)
        pred, alpha = fitted.predict(x[test]), fitted.alpha
        enc_r[j, in_any] = pearson_columns(pred, voxels[test][:, in_any])
        enc_alpha[j, in_any] = alpha
        boot = np.full((n_bootstrap, len(in_any)), np.nan)
        boot[:, in_any] = bootstrap_pearson(pred, voxels[test][:, in_any], counts)
        for i, roi in enumerate(present):
            enc_boot[i, j] = finite_median(boot[:, members[roi]])
    enc_median = np.stack([finite_median(enc_r[:, members[roi]]) for roi in present])

    layer_names = list(layers)
    return xr.Dataset(
        {
            "decoding_r": (("roi", "layer", "unit"), dec_r.astype(np.float32)),
            "decoding_alpha": (("roi", "layer", "unit"), dec_alpha),
            "decoding_median": (("roi", "layer"), finite_median(dec_r)),
            "decoding_n": (("roi", "layer"), np.isfinite(dec_r).sum(-1)),
            "decoding_median_boot": (("roi", "layer", "bootstrap"), dec_boot),
            "encoding_r": (("layer", "neuroid"), enc_r.astype(np.float32)),
            "encoding_alpha": (("layer", "neuroid"), enc_alpha),
            "encoding_median": (("roi", "layer"), enc_median),
            "encoding_n": (
                ("roi", "layer"),
                np.stack([np.isfinite(enc_r[:, members[roi]]).sum(-1) for roi in present]),
            ),
            "encoding_median_boot": (("roi", "layer", "bootstrap"), enc_boot),
            "roi_member": (("roi", "neuroid"), np.stack([members[roi] for roi in present])),
        },
        coords={
            "roi": present,
            "layer": layer_names,
            "layer_index": ("layer", np.arange(1, len(layer_names) + 1)),
            "neuroid_id": ("neuroid", dataset["neuroid_id"].values),
            "test_stimulus_id": ("test_stimulus", dataset["stimulus_id"].values[test]),
        },
        attrs={
            "dataset": dataset.attrs.get("dataset", ""),
            "description": (
                "fMRI decoding (ROI voxels -> model units) and encoding (units -> voxels): "
                "ridge fitted on the training images (sources z-scored on them, one alpha per "
                "target by leave-one-out), Pearson r per target on the test images (responses "
                "averaged over repetitions); *_median: median r over targets per ROI x layer; "
                "*_median_boot: the same with the test images resampled (paired across models "
                "and subjects: the draws depend only on n_test and bootstrap_seed)"
            ),
            "mapping": _describe(mapping),
            "n_train": len(train),
            "n_test": len(test),
            "n_bootstrap": n_bootstrap,
            "bootstrap_seed": seed,
            "rois_absent": " ".join(roi for roi in rois if roi not in present) or "none",
            "simulated": int(dataset.attrs.get("simulated", 0)),
            "neuralign_version": neuralign.__version__,
        },
    )


def _align(stimulus_ids: Sequence[str], feature_stimuli: Sequence[str]) -> np.ndarray:
    """Row of each dataset stimulus in the features; ValueError naming missing ones."""
    index = pd.Index(list(feature_stimuli))
    if not index.is_unique:
        raise ValueError("the activations' stimulus_id values are not unique")
    rows = index.get_indexer(list(stimulus_ids))
    if (rows < 0).any():
        missing = np.asarray(stimulus_ids)[rows < 0]
        raise ValueError(
            f"{len(missing)} dataset stimuli have no activations, e.g. {missing[:3].tolist()}; "
            "rebuild the activations from the same GOD datasets"
        )
    return rows


def _describe(mapping: MappingSpec) -> str:
    alphas = ", ".join(f"{a:g}" for a in mapping.relative_alphas)
    return (
        "ridge on z-scored sources, one alpha per target by exact leave-one-out on the training "
        f"images, alphas relative to the mean Gram eigenvalue: {alphas}"
    )
