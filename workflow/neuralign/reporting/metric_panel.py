"""Does the accuracy trade-off survive every metric? Tables and figure of the alignment panel.

Pure functions over the artifacts of ``neuralign.fitting.alignment.scoring.score_alignment``
(one netCDF per model): the ``{dataset}_metrics.csv`` table (one row per model × metric), the
per-metric trend table (Spearman of ImageNet top-1 with the score below and above 70% top-1),
the metric × metric rank agreement (Kendall's τ between model rankings) and the
small-multiples figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402
from scipy import stats  # noqa: E402

from neuralign.fitting.chosen import most_chosen_layer
from neuralign.io.artifacts import open_netcdf  # noqa: E402
from neuralign.models.metadata import read_measured_top1, top1_columns  # noqa: E402
from neuralign.reporting.figures import (  # noqa: E402
    THRESHOLD,
    accuracy_correlations,
    family_points,
    quadratic_trend,
    small_multiples,
)

VALUE_COLUMNS = (
    "raw",
    "raw_sem",
    "raw_ci_low",
    "raw_ci_high",
    "ceiling",
    "ceiling_ci_low",
    "ceiling_ci_high",
    "ceiled",
    "ceiled_ci_low",
    "ceiled_ci_high",
)


def metric_rows(fit: xr.Dataset) -> list[dict]:
    """One row per metric of an alignment artifact: most chosen layer, values, ceiling."""
    rows = []
    for metric in fit["metric"].values.tolist():
        one = fit.sel(metric=metric)
        layer, count = most_chosen_layer(one)
        rows.append(
            {
                "metric": metric,
                "layer": layer,
                "layer_share": count / one.sizes["split"],
                **{column: float(one[column]) for column in VALUE_COLUMNS},
                "ceiling_available": bool(one["ceiling_available"]),
                "ceiling_formula": str(one["ceiling_formula"].values),
            }
        )
    return rows


def metrics_table(
    fit_paths: Sequence[str],
    models: Sequence[dict],
    dataset: str,
    imagenet_paths: Sequence[str] = (),
) -> pd.DataFrame:
    """``{dataset}_metrics.csv``: one row per model × metric, with the model's family and
    ImageNet top-1 (``neuralign.models.metadata.top1_columns``)."""
    if len(fit_paths) != len(models):
        raise ValueError(f"{len(fit_paths)} alignment artifacts for {len(models)} models")
    measured = read_measured_top1(imagenet_paths)
    rows = []
    for path, model in zip(fit_paths, models, strict=True):
        head = {
            "dataset": dataset,
            "model": model["id"],
            "family": model["family"],
            **top1_columns(model, measured),
        }
        rows += [{**head, **row} for row in metric_rows(open_netcdf(path))]
    return pd.DataFrame(rows)


def score_column(rows: pd.DataFrame) -> str:
    """``ceiled`` when every model of a metric has a ceiling, else ``raw``."""
    return "ceiled" if rows["ceiling_available"].all() else "raw"


def _estimate(rho: float, low: float, high: float, n: int) -> str:
    if not np.isfinite(rho):
        return f"not estimable (n = {n})"
    return f"{rho:+.2f} [{low:+.2f}, {high:+.2f}]"


def trend_table(
    table: pd.DataFrame, n_bootstrap: int = 1000, seed: int = 0, threshold: float = THRESHOLD
) -> pd.DataFrame:
    """Per metric, Spearman's ρ of ImageNet top-1 with the score below and above
    ``threshold`` (trained models; ``figures.accuracy_correlations``), whether its sign flips
    and whether both CIs exclude zero on opposite sides (``flip_supported``)."""
    rows = []
    for metric, part in table.groupby("metric", sort=False):
        sides = accuracy_correlations(part, n_bootstrap, seed, threshold, score_column(part))
        # below and above the threshold over all trained models (not the per-family rows)
        sides = sides[sides["family"] == "all trained"].drop(columns=["family", "predictivity"])
        below, above = sides.iloc[0], sides.iloc[1]
        estimable = np.isfinite(below["spearman_rho"]) and np.isfinite(above["spearman_rho"])
        flips = estimable and below["spearman_rho"] * above["spearman_rho"] < 0
        supported = flips and (
            (below["ci_low"] > 0 and above["ci_high"] < 0)
            or (below["ci_high"] < 0 and above["ci_low"] > 0)
        )
        for _, side in sides.iterrows():
            rows.append(
                {
                    "metric": metric,
                    "score": score_column(part),
                    **side.to_dict(),
                    "estimate": _estimate(
                        side["spearman_rho"], side["ci_low"], side["ci_high"], side["n_models"]
                    ),
                    "sign_flip": ("yes" if flips else "no") if estimable else "not estimable",
                    "flip_supported": bool(supported),
                }
            )
    return pd.DataFrame(rows)


def rank_agreement(table: pd.DataFrame) -> pd.DataFrame:
    """Kendall's τ (τ-b) between the model rankings of every two metrics (raw values; a
    dataset-wide ceiling does not change a ranking), over the models both score."""
    wide = table.pivot(index="model", columns="metric", values="raw")
    metrics = list(dict.fromkeys(table["metric"]))
    tau = pd.DataFrame(np.nan, index=metrics, columns=metrics)
    for a in metrics:
        for b in metrics:
            both = wide[[a, b]].dropna()
            if len(both) >= 2:
                tau.loc[a, b] = stats.kendalltau(both[a], both[b])[0]
    tau.index.name = "metric"
    return tau


def panel_figure(table: pd.DataFrame, title: str) -> plt.Figure:
    """ImageNet top-1 (x) against each metric's score (ceiled where a ceiling exists, else
    raw) with 95% CIs, one panel per metric, family colours, the 70% marker and the quadratic
    trend of the trained models."""
    metrics = list(dict.fromkeys(table["metric"]))
    fig, axes = small_multiples(len(metrics), 4, (3.4, 3.0))
    for ax, metric in zip(axes.flat, metrics, strict=False):
        rows = table[table["metric"] == metric]
        column = score_column(rows)
        family_points(ax, rows, column)
        quadratic_trend(ax, rows, column)
        ax.axvline(THRESHOLD, color="black", ls=":", lw=1)
        ax.set_title(f"{metric} ({'raw / ceiling' if column == 'ceiled' else 'raw, no ceiling'})")
        ax.set_xlabel("ImageNet top-1 (%)")
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=6)
    fig.suptitle(title, fontsize=10)
    return fig
