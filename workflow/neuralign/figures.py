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
    "harmonized": "#D55E00",
    "untrained": "#999999",
}
FORMULA_LABELS = {"r/c": "r / c", "(r/c)^2": "(r / c)²", "r^2/c": "r² / c"}
THRESHOLD = 70.0  # ImageNet top-1 (%) past which the paper finds predictivity falling


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
    trained = scores[scores["family"] != "untrained"]
    if len(trained) >= 3:  # quadratic trend over trained models, as in the paper's figure 1
        coef = np.polyfit(trained["imagenet_top1"], trained["ceiled"], 2)
        x = np.linspace(trained["imagenet_top1"].min(), trained["imagenet_top1"].max(), 100)
        ax.plot(x, np.polyval(coef, x), color="black", lw=1, label="quadratic trend (trained)")
    ax.axvline(THRESHOLD, color="black", ls=":", lw=1)
    ax.set_xlabel("ImageNet top-1 accuracy (%)")
    ax.set_ylabel(f"ceiled predictivity ({FORMULA_LABELS[formulas[0]]})")
    ax.set_title(title)
    ax.legend(title="family", fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def accuracy_correlations(
    scores: pd.DataFrame, n_bootstrap: int = 1000, seed: int = 0, threshold: float = THRESHOLD
) -> pd.DataFrame:
    """Spearman correlation of ImageNet top-1 with ceiled predictivity below and above
    ``threshold`` (trained models only), with 95% bootstrap CIs over models. Fewer than three
    models in a range give NaN."""
    trained = scores[scores["family"] != "untrained"]
    rng = np.random.default_rng(seed)
    rows = []
    for label, part in [
        (f"< {threshold:g}%", trained[trained["imagenet_top1"] < threshold]),
        (f">= {threshold:g}%", trained[trained["imagenet_top1"] >= threshold]),
    ]:
        x, y = part["imagenet_top1"].to_numpy(), part["ceiled"].to_numpy()
        rho = low = high = np.nan
        if len(part) >= 3:
            rho = stats.spearmanr(x, y)[0]
            boot = []
            for _ in range(n_bootstrap):
                pick = rng.integers(0, len(part), len(part))
                if len(np.unique(x[pick])) > 1 and len(np.unique(y[pick])) > 1:
                    boot.append(stats.spearmanr(x[pick], y[pick])[0])
            low, high = np.percentile(boot, [2.5, 97.5])
        rows.append(
            {
                "range": label,
                "n_models": len(part),
                "spearman_rho": rho,
                "ci_low": low,
                "ci_high": high,
            }
        )
    return pd.DataFrame(rows)
