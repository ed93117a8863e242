"""Tables of the fMRI experiment.

``summarize`` turns fits into tables: per subject and averaged over subjects, the median r per
direction × ROI × layer × model with percentile CIs, and per layer position the paired
comparison of two models: the difference in median r with its bootstrap CI and two-sided
bootstrap p-value, and over subjects a paired t-test and a Wilcoxon signed-rank test of the
per-subject medians.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from neuralign.analyses.fmri.statistics import compare, over_subjects
from neuralign.fitting.metrics import percentile_ci

DIRECTIONS = ("decoding", "encoding")


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
                    **over_subjects(med_a[:, j], med_b[:, j]),
                }
                rows.append(row)
    return rows


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
