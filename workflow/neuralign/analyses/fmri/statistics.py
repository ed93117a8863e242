"""Statistics of the fMRI experiment: finite medians, bootstrap correlations from resample
counts (the draws depend only on the number of test images and the seed, so they pair across
models and subjects), bootstrap p-values and paired comparisons."""

from __future__ import annotations

import numpy as np
from scipy import stats

from neuralign.fitting.metrics import bootstrap_indices, percentile_ci


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


def finite_median(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """Median over finite values along ``axis`` (NaN where there are none)."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values).any(axis=axis)
    out = np.full(finite.shape, np.nan)
    if finite.any():
        moved = np.moveaxis(values, axis, -1)
        out[finite] = np.nanmedian(moved[finite], axis=-1)
    return out


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


def over_subjects(a: np.ndarray, b: np.ndarray) -> dict:
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
