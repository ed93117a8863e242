"""The figure of the harmonizer demo."""

from __future__ import annotations

import pandas as pd


def plot_demo(summary: pd.DataFrame):
    """Two bar panels (human alignment, shortcut-free accuracy) of λ > 0 against λ = 0."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(6.5, 3), layout="constrained")
    names = [f"λ = {value:g}" for value in summary["lambda"]]
    colours = ["#0072B2" if value > 0 else "#999999" for value in summary["lambda"]]
    panels = [
        ("human_alignment", "human alignment\n(Spearman / human ceiling)"),
        ("shortcut_free_accuracy", "accuracy, shortcut-free test set"),
    ]
    for ax, (column, label) in zip(axes, panels, strict=True):
        ax.bar(names, summary[column], color=colours)
        for x, y in enumerate(summary[column]):
            ax.annotate(f"{y:.2f}", (x, y), ha="center", va="bottom", fontsize=8)
        ax.set_ylabel(label)
        ax.spines[["top", "right"]].set_visible(False)
    axes[1].axhline(summary["chance"].iloc[0], color="black", lw=0.8, ls="--", label="chance")
    axes[1].set_ylim(0, 1)
    axes[1].legend(fontsize=8, frameon=False)
    figure.suptitle("Harmonizer on the synthetic shortcut task (SIMULATED)", fontsize=10)
    return figure
