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

``summarize`` turns fits into tables: per subject and averaged over subjects, the median r
per direction × ROI × layer × model with percentile CIs, and per layer position the paired
comparison of two models: the difference in median r with its bootstrap CI and two-sided
bootstrap p-value, and over subjects a paired t-test and a Wilcoxon signed-rank test of the
per-subject medians.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

import neuralign
from neuralign.datasets import god_fmri
from neuralign.datasets.god_fmri import ROIS
from neuralign.fitting import mappings
from neuralign.fitting.mappings import MappingSpec
from neuralign.fitting.metrics import bootstrap_indices, pearson_columns, percentile_ci
from neuralign.fitting.scoring import repetition_mean
from neuralign.io.artifacts import open_netcdf
from neuralign.io.dataset import DatasetError

DIRECTIONS = ("decoding", "encoding")
TARGETS = (
    "results/fmri/summary.csv",
    "results/fmri/comparison.csv",
    "results/figures/fmri/roi_layer.png",
    "results/figures/fmri/roi_layer.pdf",
    "results/figures/fmri/roi_layer_encoding.png",
    "results/figures/fmri/roi_layer_encoding.pdf",
)
REAL_H5_DIR = "resources/god_fmri"  # config 'fmri.h5_dir' default: the downloaded files
TARGET_CHUNK = 2000  # targets fitted at once: bounds memory (alphas × images × targets)


def workflow_targets(subjects: Sequence[str]) -> list[str]:
    """The experiment's final outputs, which `rule all` builds (none without subjects)."""
    return list(TARGETS) if subjects else []


def check_config(fmri: Mapping, unchecked_subjects: Sequence[str] = ()) -> None:
    """Check config 'fmri' before any job: model sources and layer specs resolve, and the
    stimulus folder holds every image of ``unchecked_subjects`` (those whose dataset is not
    built yet) whose HDF5 file is already there (the others are checked when converted, after
    rule download fetched their file). ConfigError says where to get what is missing. With
    'fmri.simulated.enabled' a rule makes those files, so only their folders are checked
    (``check_simulated_paths``). Whether the gated stimulus images are there at all decides
    whether the experiment runs (``neuralign.gated.god_stimuli``)."""
    # imported here: they load timm and torchvision, which the fitting jobs do not need
    from neuralign.config import ConfigError
    from neuralign.models.layers import LayerError, resolve_layers
    from neuralign.models.loading import ModelError, build_architecture

    for model, source in fmri["models"].items():
        spec = fmri["model_layers"].get(model, fmri["layers"])
        try:
            resolve_layers(build_architecture(source), spec, model)
        except (ModelError, LayerError) as err:
            raise ConfigError(f"config 'fmri.models.{model}': {err}") from err
    unknown = sorted(set(fmri["model_layers"]) - set(fmri["models"]))
    if unknown:
        raise ConfigError(
            f"config 'fmri.model_layers' names {unknown}, which are not in 'fmri.models' "
            f"({', '.join(fmri['models'])})"
        )
    if fmri.get("simulated", {}).get("enabled", False):
        check_simulated_paths(fmri)
        return  # the files are made by rule god_fmri_simulated
    for subject in unchecked_subjects:
        h5 = Path(fmri["h5_dir"]) / f"{subject}.h5"
        if not h5.is_file():
            continue
        try:
            god_fmri.check_stimulus_dir(h5, fmri["stimulus_dir"])
        except DatasetError as err:
            raise ConfigError(
                f"config 'fmri.stimulus_dir': {err} (or set 'fmri.subjects: []' to leave the "
                "fMRI experiment out)"
            ) from err


def check_simulated_paths(fmri: Mapping) -> None:
    """With 'fmri.simulated.enabled', the SIMULATED files go to 'h5_dir' and 'stimulus_dir':
    ConfigError unless both are set, apart from each other and from resources/god_fmri (the
    real files' default place, which a simulation must never fill)."""
    from neuralign.config import ConfigError

    where = "e.g. h5_dir: results/simulated/god_fmri, stimulus_dir: results/simulated/god_images"
    if not fmri["stimulus_dir"]:
        raise ConfigError(
            "config 'fmri.simulated.enabled' writes the SIMULATED images into "
            f"'fmri.stimulus_dir', which is not set; {where}"
        )
    h5_dir, stimuli = Path(fmri["h5_dir"]).resolve(), Path(fmri["stimulus_dir"]).resolve()
    if h5_dir == Path(REAL_H5_DIR).resolve():
        raise ConfigError(
            f"config 'fmri.simulated.enabled' would write SIMULATED files into 'fmri.h5_dir' "
            f"{fmri['h5_dir']}, where the real GOD files belong; point it elsewhere ({where})"
        )
    if h5_dir == stimuli or h5_dir.is_relative_to(stimuli):
        raise ConfigError(
            f"config 'fmri.simulated.enabled': 'fmri.h5_dir' {fmri['h5_dir']} lies in "
            f"'fmri.stimulus_dir' {fmri['stimulus_dir']}, the folder of images the simulation "
            f"writes; give them separate folders ({where})"
        )


def zscore(x: np.ndarray, train: np.ndarray) -> np.ndarray:
    """Columns standardised by their mean and SD over the ``train`` rows (SD 0 → 1)."""
    mean, sd = x[train].mean(0), x[train].std(0)
    return (x - mean) / np.where(sd > 0, sd, 1.0)


def bootstrap_counts(n: int, n_bootstrap: int, seed: int) -> np.ndarray:
    """(bootstrap, n) counts of each test image in seeded resamples with replacement."""
    indices = bootstrap_indices(n, n_bootstrap, seed)
    return np.stack([np.bincount(row, minlength=n) for row in indices]).astype(np.float64)


def bootstrap_pearson(prediction: np.ndarray, target: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Pearson r per column for every resample given by ``counts`` (bootstrap, n): (bootstrap,
    column), from weighted sums (as if the rows were repeated); NaN where a column is constant
    in a resample."""
    x = prediction - prediction.mean(0)
    y = target - target.mean(0)
    n = counts.sum(1, keepdims=True)
    sx, sy = counts @ x, counts @ y
    sxx, syy, sxy = counts @ (x * x), counts @ (y * y), counts @ (x * y)
    cov = n * sxy - sx * sy
    var = (n * sxx - sx**2) * (n * syy - sy**2)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cov / np.sqrt(var)
    scale = np.finfo(np.float64).eps * 1e3
    degenerate = (n * sxx - sx**2 <= scale * n * sxx) | (n * syy - sy**2 <= scale * n * syy)
    return np.where(degenerate, np.nan, r)


def _median(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """Median over finite values along ``axis`` (NaN where there are none)."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values).any(axis=axis)
    out = np.full(finite.shape, np.nan)
    if finite.any():
        moved = np.moveaxis(values, axis, -1)
        out[finite] = np.nanmedian(moved[finite], axis=-1)
    return out


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
            dec_boot[i, j] = _median(bootstrap_pearson(pred, units[test], counts))

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
            enc_boot[i, j] = _median(boot[:, members[roi]])
    enc_median = np.stack([_median(enc_r[:, members[roi]]) for roi in present])

    layer_names = list(layers)
    return xr.Dataset(
        {
            "decoding_r": (("roi", "layer", "unit"), dec_r.astype(np.float32)),
            "decoding_alpha": (("roi", "layer", "unit"), dec_alpha),
            "decoding_median": (("roi", "layer"), _median(dec_r)),
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


def bootstrap_p(differences: np.ndarray) -> float:
    """Two-sided bootstrap p-value of a difference being 0: twice the smaller tail fraction of
    the draws at or beyond 0, with the +1 correction of a finite number of draws."""
    d = np.asarray(differences)[np.isfinite(differences)]
    if d.size == 0:
        return np.nan
    tail = min((d <= 0).sum(), (d >= 0).sum())
    return float(min(1.0, 2 * (tail + 1) / (d.size + 1)))


def compare(a: np.ndarray, b: np.ndarray, a_boot: np.ndarray, b_boot: np.ndarray) -> dict:
    """Paired comparison of two medians with bootstrap draws made on the same test images."""
    diff = a_boot - b_boot
    low, high = percentile_ci(diff)
    return {
        "difference": float(a - b),
        "ci_low": float(low),
        "ci_high": float(high),
        "p_bootstrap": bootstrap_p(diff),
    }


def read_units(path: str | Path) -> tuple[np.ndarray, dict[str, np.ndarray], dict]:
    """Stimulus ids, layer → (stimulus, unit) arrays and attrs of a sampled-units artifact
    (as ``neuralign.activations.extraction.read_activations``, without loading the model
    libraries)."""
    ds = open_netcdf(path)
    layers = np.atleast_1d(ds.attrs["layers"]).tolist()
    units = {layer: ds[layer].values.reshape(ds.sizes["stimulus"], -1) for layer in layers}
    return ds["stimulus_id"].values, units, dict(ds.attrs)


def load_fits(paths: Sequence[str | Path]) -> list[xr.Dataset]:
    """Open fit files (loaded into memory)."""
    return [open_netcdf(path) for path in paths]


def summarize(
    fits: Sequence[xr.Dataset], models: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tables from per subject × model fits (attrs ``subject`` and ``model`` set).

    ``summary``: one row per direction × subject (and 'all': mean over subjects) × ROI × layer
    × model: median r, 95% bootstrap CI over test images, targets. ``comparison``: one row per
    direction × subject/'all' × ROI × layer position × pair of ``models`` (in the given order):
    difference in median r (a − b), its paired bootstrap CI and p-value, and for 'all' a paired
    t-test and Wilcoxon signed-rank test over subjects. Both have a ``simulated`` column: 1 when
    the fits are of SIMULATED data (their attrs say so), 0 otherwise; mixing raises ValueError.
    """
    by_key = {(fit.attrs["subject"], fit.attrs["model"]): fit for fit in fits}
    subjects = sorted({fit.attrs["subject"] for fit in fits})
    missing = [(s, m) for s in subjects for m in models if (s, m) not in by_key]
    if missing:
        raise ValueError(f"no fit for (subject, model) {missing}")
    _check_paired(fits)
    simulated = {int(fit.attrs.get("simulated", 0)) for fit in fits}
    if len(simulated) > 1:
        raise ValueError(
            "some fits are of SIMULATED data and some of recorded data; summarize them apart"
        )
    rows, pairs = [], []
    for direction in DIRECTIONS:
        for model in models:
            rows += _summary_rows(direction, model, [by_key[s, model] for s in subjects])
        for a, b in itertools.combinations(models, 2):
            pairs += _comparison_rows(
                direction, a, b, [by_key[s, a] for s in subjects], [by_key[s, b] for s in subjects]
            )
    flag = simulated.pop()
    return pd.DataFrame(rows).assign(simulated=flag), pd.DataFrame(pairs).assign(simulated=flag)


def _check_paired(fits: Sequence[xr.Dataset]) -> None:
    """Paired bootstrap needs the same test images, draws and seed in every fit."""
    first = fits[0]
    for fit in fits[1:]:
        same = (
            fit.attrs["n_bootstrap"] == first.attrs["n_bootstrap"]
            and fit.attrs["bootstrap_seed"] == first.attrs["bootstrap_seed"]
            and np.array_equal(fit["test_stimulus_id"].values, first["test_stimulus_id"].values)
        )
        if not same:
            raise ValueError(
                f"fits of {fit.attrs['subject']}/{fit.attrs['model']} and "
                f"{first.attrs['subject']}/{first.attrs['model']} differ in test images or "
                "bootstrap draws, so they cannot be compared pairwise; refit them together"
            )


def _common_rois(fits: Sequence[xr.Dataset]) -> list[str]:
    rois = [list(fit["roi"].values) for fit in fits]
    return [roi for roi in rois[0] if all(roi in other for other in rois)]


def _summary_rows(direction: str, model: str, fits: Sequence[xr.Dataset]) -> list[dict]:
    rows = []
    for fit in fits:
        for roi in fit["roi"].values:
            median = fit[f"{direction}_median"].sel(roi=roi).values
            boot = fit[f"{direction}_median_boot"].sel(roi=roi).values
            low, high = percentile_ci(boot, axis=-1)
            for j, layer in enumerate(fit["layer"].values):
                rows.append(
                    _row(direction, fit.attrs["subject"], roi, j, layer, model, fit)
                    | {
                        "median_r": median[j],
                        "ci_low": low[j],
                        "ci_high": high[j],
                        "n_targets": int(fit[f"{direction}_n"].sel(roi=roi).values[j]),
                    }
                )
    for roi in _common_rois(fits):
        median = np.mean([fit[f"{direction}_median"].sel(roi=roi).values for fit in fits], 0)
        boot = np.mean([fit[f"{direction}_median_boot"].sel(roi=roi).values for fit in fits], 0)
        low, high = percentile_ci(boot, axis=-1)
        for j, layer in enumerate(fits[0]["layer"].values):
            rows.append(
                _row(direction, "all", roi, j, layer, model, fits[0])
                | {
                    "median_r": median[j],
                    "ci_low": low[j],
                    "ci_high": high[j],
                    "n_targets": int(
                        sum(fit[f"{direction}_n"].sel(roi=roi).values[j] for fit in fits)
                    ),
                }
            )
    return rows


def _row(direction, subject, roi, j, layer, model, fit) -> dict:
    n_layers = fit.sizes["layer"]
    return {
        "direction": direction,
        "subject": subject,
        "roi": roi,
        "layer_index": j + 1,
        "layer_depth": j / (n_layers - 1) if n_layers > 1 else 0.0,
        "model": model,
        "layer": layer,
    }


def _comparison_rows(
    direction: str, a: str, b: str, fits_a: Sequence[xr.Dataset], fits_b: Sequence[xr.Dataset]
) -> list[dict]:
    n_layers = fits_a[0].sizes["layer"]
    if fits_b[0].sizes["layer"] != n_layers:
        raise ValueError(
            f"models {a!r} and {b!r} have {n_layers} and {fits_b[0].sizes['layer']} layers; "
            "layers are compared by position, so give both the same number (fmri.layers)"
        )
    rows = []
    groups = [(fa.attrs["subject"], [fa], [fb]) for fa, fb in zip(fits_a, fits_b, strict=True)]
    groups.append(("all", list(fits_a), list(fits_b)))
    for subject, group_a, group_b in groups:
        for roi in _common_rois([*group_a, *group_b]):

            def values(group, what, roi=roi):
                return np.stack([fit[f"{direction}_{what}"].sel(roi=roi).values for fit in group])

            med_a, med_b = values(group_a, "median"), values(group_b, "median")
            boot_a, boot_b = values(group_a, "median_boot"), values(group_b, "median_boot")
            for j in range(n_layers):
                row = {
                    "direction": direction,
                    "subject": subject,
                    "roi": roi,
                    "layer_index": j + 1,
                    "model_a": a,
                    "model_b": b,
                    "layer_a": group_a[0]["layer"].values[j],
                    "layer_b": group_b[0]["layer"].values[j],
                    "median_r_a": med_a[:, j].mean(),
                    "median_r_b": med_b[:, j].mean(),
                    **compare(
                        med_a[:, j].mean(),
                        med_b[:, j].mean(),
                        boot_a[:, j].mean(0),
                        boot_b[:, j].mean(0),
                    ),
                    "n_subjects": len(group_a),
                    **_over_subjects(med_a[:, j], med_b[:, j]),
                }
                rows.append(row)
    return rows


def _over_subjects(a: np.ndarray, b: np.ndarray) -> dict:
    """Paired t-test and Wilcoxon signed-rank test of per-subject medians (NaN for < 2)."""
    out = {"t": np.nan, "p_ttest": np.nan, "p_wilcoxon": np.nan}
    d = a - b
    if len(d) < 2 or not np.isfinite(d).all():
        return out
    if np.ptp(d) > 0:
        out["t"], out["p_ttest"] = (float(v) for v in stats.ttest_rel(a, b))
    if np.any(d != 0):
        out["p_wilcoxon"] = float(stats.wilcoxon(a, b).pvalue)
    return out


def layers_won(comparison: pd.DataFrame, direction: str = "decoding") -> pd.DataFrame:
    """Per ROI × pair (over subjects): in how many layer positions model a's median r is higher."""
    rows = comparison[(comparison["direction"] == direction) & (comparison["subject"] == "all")]
    return (
        rows.assign(a_better=rows["difference"] > 0)
        .groupby(["roi", "model_a", "model_b"], sort=False)["a_better"]
        .agg(["sum", "size"])
        .rename(columns={"sum": "layers_a_better", "size": "n_layers"})
        .reset_index()
    )
