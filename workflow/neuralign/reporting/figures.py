"""Paper figures, drawn from scores tables."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

# Okabe–Ito colour-blind-safe palette, one colour per model family.
FAMILY_COLOURS = {
    "ConvNet": "#0072B2",
    "Transformer": "#E69F00",
    "robust": "#009E73",
    "extra data": "#CC79A7",
    "self-supervised": "#56B4E9",
    "harmonized": "#D55E00",
    "untrained": "#999999",
}
FORMULA_LABELS = {"r/c": "r / c", "(r/c)^2": "(r / c)²", "r^2/c": "r² / c"}
THRESHOLD = 70.0  # ImageNet top-1 (%) past which the paper finds predictivity falling


def family_points(
    ax: plt.Axes, table: pd.DataFrame, column: str, strip: plt.Axes | None = None
) -> None:
    """ImageNet top-1 against ``column`` with its 95% CI (``<column>_ci_low/high``), one colour
    per family, each point labelled; harmonized models stand out (large diamonds). Models
    without a top-1 (not measured: no ImageNet validation images) are drawn in ``strip``, a
    narrow axis beside ``ax`` marked "no ImageNet top-1", never at an invented x."""
    known = table[table["imagenet_top1"].notna()]
    unknown = table[table["imagenet_top1"].isna()]
    _points(ax, known, column, known["imagenet_top1"])
    if len(unknown):
        if strip is None:
            raise ValueError(f"models {unknown['model'].tolist()} have no ImageNet top-1")
        position = pd.Series(range(len(unknown)), index=unknown.index)
        _points(strip, unknown, column, position, annotate=False)
        strip.set_xlim(-0.8, len(unknown) - 0.2)
        strip.set_xticks(position, unknown["model"], rotation=90, fontsize=7)
        strip.set_facecolor("#eeeeee")
        strip.set_title("no ImageNet\ntop-1", fontsize=8)
        strip.tick_params(labelleft=False)
        strip.grid(alpha=0.3)


def _points(
    ax: plt.Axes, table: pd.DataFrame, column: str, x: pd.Series, annotate: bool = True
) -> None:
    for family, group in table.groupby("family", sort=False):
        low, high = group[f"{column}_ci_low"], group[f"{column}_ci_high"]
        highlight = family == "harmonized"
        ax.errorbar(
            x[group.index],
            group[column],
            yerr=[group[column] - low, high - group[column]],
            fmt="D" if highlight else "o",
            markersize=9 if highlight else 6,
            markeredgecolor="black" if highlight else None,
            capsize=3,
            color=FAMILY_COLOURS.get(family, "black"),
            label=family,
            zorder=3 if highlight else 2,
        )
        for index, row in group.iterrows() if annotate else ():
            ax.annotate(
                row["model"],
                (x[index], row[column]),
                fontsize=7,
                xytext=(4, 4),
                textcoords="offset points",
            )


def accuracy_axes(
    fig: plt.Figure, table: pd.DataFrame, n_panels: int = 1
) -> list[tuple[plt.Axes, plt.Axes | None]]:
    """(main axis, strip or None) per panel: the strip, for models without an ImageNet top-1,
    sits right of its panel and shares its y axis."""
    if table["imagenet_top1"].notna().all():
        return [(ax, None) for ax in fig.subplots(1, n_panels, squeeze=False)[0]]
    axes = fig.subplots(1, 2 * n_panels, width_ratios=[6, 1] * n_panels, squeeze=False)[0]
    pairs = list(zip(axes[::2], axes[1::2], strict=True))
    for main, strip in pairs:
        strip.sharey(main)
    return pairs


def legend(ax: plt.Axes, strip: plt.Axes | None, **kwargs) -> None:
    """One legend for a panel and its strip (each family once)."""
    handles = dict(zip(*reversed(ax.get_legend_handles_labels()), strict=True))
    if strip is not None:
        handles.update(zip(*reversed(strip.get_legend_handles_labels()), strict=True))
    ax.legend(list(handles.values()), list(handles), **kwargs)


def predictivity_column(scores: pd.DataFrame) -> str:
    """``ceiled`` when the dataset has a noise ceiling, else ``raw`` (repeat-averaged data)."""
    return "ceiled" if scores["ceiled"].notna().any() else "raw"


def quadratic_trend(ax: plt.Axes, table: pd.DataFrame, column: str) -> None:
    """Quadratic fit of ``column`` on ImageNet top-1 over the trained models that have both
    (three or more), as in the paper's figure 1."""
    trained = table[
        (table["family"] != "untrained") & table[column].notna() & table["imagenet_top1"].notna()
    ]
    if len(trained) >= 3:
        coef = np.polyfit(trained["imagenet_top1"], trained[column], 2)
        x = np.linspace(trained["imagenet_top1"].min(), trained["imagenet_top1"].max(), 100)
        ax.plot(x, np.polyval(coef, x), color="black", lw=1, label="quadratic trend (trained)")


def small_multiples(
    n_panels: int, max_columns: int, panel_size: tuple[float, float], **subplots
) -> tuple[plt.Figure, np.ndarray]:
    """A figure of ``n_panels`` panels (inches each) in rows of at most ``max_columns``, with
    room for a title; the axes as a 2-D array, those left over hidden."""
    columns = min(max_columns, n_panels)
    rows = -(-n_panels // columns)
    width, height = panel_size
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(width * columns, height * rows + 0.6),
        squeeze=False,
        layout="constrained",
        **subplots,
    )
    for ax in axes.flat[n_panels:]:
        ax.set_visible(False)
    return fig, axes


def accuracy_vs_predictivity(scores: pd.DataFrame, title: str) -> plt.Figure:
    """ImageNet top-1 (x) against ceiled predictivity (y) with 95% CIs, coloured by family;
    raw r when the dataset has no noise ceiling (the axis label says so). Models without a
    top-1 are drawn in a strip of their own."""
    formulas = scores["ceiling_formula"].unique()
    if len(formulas) != 1:
        raise ValueError(f"scores mix ceiling formulas {list(formulas)}")
    column = predictivity_column(scores)
    fig = plt.figure(figsize=(6.8 if scores["imagenet_top1"].isna().any() else 6, 4.5))
    fig.set_layout_engine("constrained")
    [(ax, strip)] = accuracy_axes(fig, scores)
    family_points(ax, scores, column, strip)
    quadratic_trend(ax, scores, column)
    ax.axvline(THRESHOLD, color="black", ls=":", lw=1)
    ax.set_xlabel("ImageNet top-1 accuracy (%)")
    if column == "ceiled":
        ax.set_ylabel(f"ceiled predictivity ({FORMULA_LABELS[formulas[0]]})")
    else:
        ax.set_ylabel("raw predictivity (median Pearson r)\nno noise ceiling: no repetitions")
    ax.set_title(title)
    legend(ax, strip, title="family", fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def accuracy_correlations(
    scores: pd.DataFrame,
    n_bootstrap: int = 1000,
    seed: int = 0,
    threshold: float = THRESHOLD,
    column: str | None = None,
) -> pd.DataFrame:
    """Spearman correlation of ImageNet top-1 with ``column`` (default: ceiled predictivity, raw
    r when the dataset has no noise ceiling; ``predictivity`` says which), with 95% bootstrap
    CIs over models: over all trained models below and above ``threshold`` (family "all
    trained", the first two rows), then within each trained family over its whole top-1 range
    (range "all"; families in ``FAMILY_COLOURS`` order). Only models with a top-1 count; fewer
    than three models give NaN."""
    column = column or predictivity_column(scores)
    trained = scores[(scores["family"] != "untrained") & scores["imagenet_top1"].notna()]
    rng = np.random.default_rng(seed)
    parts = [
        ("all trained", f"< {threshold:g}%", trained[trained["imagenet_top1"] < threshold]),
        ("all trained", f">= {threshold:g}%", trained[trained["imagenet_top1"] >= threshold]),
    ]
    order = {family: index for index, family in enumerate(FAMILY_COLOURS)}
    families = sorted(trained["family"].unique(), key=lambda f: (order.get(f, len(order)), f))
    parts += [(family, "all", trained[trained["family"] == family]) for family in families]
    return pd.DataFrame(
        [
            {
                "family": family,
                "range": label,
                "predictivity": column,
                **_spearman_with_ci(part, column, rng, n_bootstrap),
            }
            for family, label, part in parts
        ]
    )


def _spearman_with_ci(
    part: pd.DataFrame, column: str, rng: np.random.Generator, n_bootstrap: int
) -> dict:
    x, y = part["imagenet_top1"].to_numpy(), part[column].to_numpy()
    rho = low = high = np.nan
    if len(part) >= 3:
        rho = stats.spearmanr(x, y)[0]
        boot = []
        for _ in range(n_bootstrap):
            pick = rng.integers(0, len(part), len(part))
            if len(np.unique(x[pick])) > 1 and len(np.unique(y[pick])) > 1:
                boot.append(stats.spearmanr(x[pick], y[pick])[0])
        low, high = np.percentile(boot, [2.5, 97.5])
    return {"n_models": len(part), "spearman_rho": rho, "ci_low": low, "ci_high": high}


def map_predictivity_vs_accuracy(table: pd.DataFrame, mapping: str, title: str) -> plt.Figure:
    """Per array, ImageNet top-1 (x) against raw map predictivity (y, median over neuroids of
    the mean held-out r) with 95% bootstrap CIs over images; ceilings as horizontal lines."""
    table = table[table["mapping"] == mapping]
    arrays = list(dict.fromkeys(table["array"]))
    fig = plt.figure(figsize=(4.5 * len(arrays), 4), layout="constrained")
    for (ax, strip), array in zip(accuracy_axes(fig, table, len(arrays)), arrays, strict=True):
        rows = table[table["array"] == array]
        family_points(ax, rows, "raw", strip)
        ceilings = [("neighbour_ceiling", ":", "best other neuroid (published)")]
        if "split_half_ceiling" in rows:
            ceilings.insert(0, ("split_half_ceiling", "--", "split-half ceiling"))
        for column, style, label in ceilings:
            if rows[column].notna().any():
                ax.axhline(rows[column].iloc[0], color="black", ls=style, lw=1, label=label)
        ax.set_title(f"{title}: {array}")
        ax.set_xlabel("ImageNet top-1 accuracy (%)")
        ax.set_ylabel(f"map predictivity (median r, {mapping})")
        ax.grid(alpha=0.3)
        legend(ax, strip, fontsize=7)
    return fig


def map_panel(
    images: list[np.ndarray],
    it_maps: np.ndarray,
    predictions: dict[str, np.ndarray],
    extent: tuple[float, float, float, float],
    grid_extent: tuple[float, float, float, float],
    neuroid: str,
) -> plt.Figure:
    """Rows: images; columns: the image, the IT map of ``neuroid`` and each model's held-out
    predicted map (``predictions``: label → (image, y, x)), maps drawn over their positions in
    degrees (``grid_extent``) beside the image (``extent``)."""
    columns = 2 + len(predictions)
    fig, axes = plt.subplots(
        len(images),
        columns,
        figsize=(2.4 * columns, 2.4 * len(images)),
        squeeze=False,
        layout="constrained",
    )
    for i, image in enumerate(images):
        axes[i, 0].imshow(image, extent=extent)
        panels = [("IT map" if i == 0 else None, it_maps[i])]
        panels += [(label if i == 0 else None, maps[i]) for label, maps in predictions.items()]
        for j, (label, values) in enumerate(panels, start=1):
            axes[i, j].imshow(values, extent=grid_extent, origin="upper", cmap="magma")
            if label:
                axes[i, j].set_title(label, fontsize=8)
        for ax in axes[i]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_title(f"image (neuroid {neuroid})", fontsize=8)
    return fig


MODEL_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
DIRECTION_LABELS = {
    "decoding": "decoding (ROI voxels → units)",
    "encoding": "encoding (units → ROI voxels)",
}


def fmri_roi_layer(
    summary: pd.DataFrame, comparison: pd.DataFrame, direction: str, alpha: float = 0.05
) -> plt.Figure:
    """The fMRI experiment as on the poster: one panel per ROI, median r over targets (mean
    over subjects) against layer position for each model, with 95% bootstrap CIs over test
    images (band) and single subjects (thin lines); * marks layer positions where the first two
    models differ with paired bootstrap p < ``alpha``. The title says SIMULATED when the
    summary's ``simulated`` column does."""
    rows = summary[summary["direction"] == direction]
    rois = list(dict.fromkeys(rows["roi"]))
    models = list(dict.fromkeys(rows["model"]))
    fig, axes = small_multiples(len(rois), 5, (2.6, 2.4), sharex=True, sharey=True)
    n_cols = axes.shape[1]
    pairs = comparison[(comparison["direction"] == direction) & (comparison["subject"] == "all")]
    for ax, roi in zip(axes.flat, rois, strict=False):
        for colour, model in zip(MODEL_COLOURS, models, strict=False):
            part = rows[(rows["roi"] == roi) & (rows["model"] == model)]
            for _, subject in part[part["subject"] != "all"].groupby("subject"):
                ax.plot(
                    subject["layer_index"], subject["median_r"], color=colour, lw=0.5, alpha=0.4
                )
            mean = part[part["subject"] == "all"]
            ax.fill_between(
                mean["layer_index"], mean["ci_low"], mean["ci_high"], color=colour, alpha=0.2, lw=0
            )
            ax.plot(mean["layer_index"], mean["median_r"], "o-", color=colour, ms=3, label=model)
        if len(models) >= 2:
            first = pairs[
                (pairs["roi"] == roi)
                & (pairs["model_a"] == models[0])
                & (pairs["model_b"] == models[1])
                & (pairs["p_bootstrap"] < alpha)
            ]
            for index in first["layer_index"]:
                ax.annotate(
                    "*", (index, 1), xycoords=("data", "axes fraction"), ha="center", va="top"
                )
        ax.set_title(roi, fontsize=9)
        ax.axhline(0, color="black", lw=0.5)
        ax.grid(alpha=0.3)
    bottom = [axes.flat[k] for k in range(len(rois)) if k + n_cols >= len(rois)]
    for ax in bottom:
        ax.set_xlabel("layer (evenly spaced)")
        ax.xaxis.set_tick_params(labelbottom=True)
    axes.flat[0].set_xticks(sorted(rows["layer_index"].unique()))
    for ax in axes[:, 0]:
        ax.set_ylabel("median Pearson r")
    axes.flat[0].legend(fontsize=7)
    simulated = "simulated" in rows and rows["simulated"].astype(bool).any()
    data = "SIMULATED fMRI in the GOD layout (offline demo)" if simulated else "GOD fMRI"
    fig.suptitle(f"{data}, {DIRECTION_LABELS.get(direction, direction)}", fontsize=10)
    return fig
