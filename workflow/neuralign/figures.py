"""Paper figures, drawn from scores tables."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

# Okabe–Ito colour-blind-safe palette, one colour per model family.
FAMILY_COLOURS = {
    "ConvNet": "#0072B2",
    "Transformer": "#E69F00",
    "robust": "#009E73",
    "extra data": "#CC79A7",
    "harmonized": "#D55E00",
    "untrained": "#999999",
}
FORMULA_LABELS = {"r/c": "r / c", "(r/c)^2": "(r / c)²", "r^2/c": "r² / c"}


def accuracy_vs_predictivity(scores: pd.DataFrame, title: str) -> plt.Figure:
    """ImageNet top-1 (x) against ceiled predictivity (y) with 95% CIs, coloured by family."""
    formulas = scores["ceiling_formula"].unique()
    if len(formulas) != 1:
        raise ValueError(f"scores mix ceiling formulas {list(formulas)}")
    fig, ax = plt.subplots(figsize=(6, 4.5), layout="constrained")
    for family, group in scores.groupby("family", sort=False):
        yerr = [group["ceiled"] - group["ceiled_ci_low"], group["ceiled_ci_high"] - group["ceiled"]]
        ax.errorbar(
            group["imagenet_top1"],
            group["ceiled"],
            yerr=yerr,
            fmt="o",
            capsize=3,
            color=FAMILY_COLOURS.get(family, "black"),
            label=family,
        )
        for _, row in group.iterrows():
            ax.annotate(
                row["model"],
                (row["imagenet_top1"], row["ceiled"]),
                fontsize=7,
                xytext=(4, 4),
                textcoords="offset points",
            )
    ax.set_xlabel("ImageNet top-1 accuracy (%)")
    ax.set_ylabel(f"ceiled predictivity ({FORMULA_LABELS[formulas[0]]})")
    ax.set_title(title)
    ax.legend(title="family", fontsize=8)
    ax.grid(alpha=0.3)
    return fig
