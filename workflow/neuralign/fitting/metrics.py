"""Per-neuroid correlations, split-half noise ceilings, ceiled scores and bootstrap CIs."""

from __future__ import annotations

import warnings

import numpy as np

CEILING_FORMULAS = {
    "r/c": lambda r, c: r / c,
    "(r/c)^2": lambda r, c: (r / c) ** 2,
    "r^2/c": lambda r, c: r**2 / c,
}


def pearson_columns(a: np.ndarray, b: np.ndarray, axis: int = 0) -> np.ndarray:
    """Pearson r between matching columns of ``a`` and ``b`` along ``axis``.

    Rows where either value is NaN are left out, column by column.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    valid = np.isfinite(a) & np.isfinite(b)
    count = valid.sum(axis=axis, keepdims=True)
    a = np.where(valid, a, 0.0)
    b = np.where(valid, b, 0.0)
    a = np.where(valid, a - a.sum(axis=axis, keepdims=True) / count, 0.0)
    b = np.where(valid, b - b.sum(axis=axis, keepdims=True) / count, 0.0)
    denom = np.sqrt((a * a).sum(axis=axis) * (b * b).sum(axis=axis))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a * b).sum(axis=axis) / denom


def spearman_brown(r: np.ndarray, factor: float = 2.0) -> np.ndarray:
    """Reliability of a measure ``factor`` times as long as one with reliability ``r``."""
    return factor * r / (1.0 + (factor - 1.0) * r)


def split_halves(n_repetitions: int, n_splits: int, seed: int) -> np.ndarray:
    """Seeded random permutations of the repetitions (split, repetition); halves are the two
    leading/trailing ``n_repetitions // 2`` entries."""
    if n_repetitions < 2:
        raise ValueError(f"a split-half ceiling needs at least 2 repetitions, got {n_repetitions}")
    rng = np.random.default_rng(seed)
    return np.stack([rng.permutation(n_repetitions) for _ in range(n_splits)])


def half_means(responses: np.ndarray, permutations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Means over each half of the repetitions: two arrays (split, stimulus, neuroid)."""
    half = responses.shape[-1] // 2
    with warnings.catch_warnings():  # an all-NaN half gives NaN, which is what we want
        warnings.simplefilter("ignore", RuntimeWarning)
        first = np.stack([np.nanmean(responses[..., p[:half]], axis=-1) for p in permutations])
        second = np.stack([np.nanmean(responses[..., p[half:]], axis=-1) for p in permutations])
    return first, second


def split_half_ceiling(
    responses: np.ndarray, n_splits: int = 10, seed: int = 0, n_bootstrap: int = 0
) -> dict[str, np.ndarray]:
    """Spearman–Brown corrected split-half reliability per neuroid.

    ``responses`` is (stimulus, neuroid, repetition), NaN for missing repetitions. For each of
    ``n_splits`` seeded random halvings of the repetitions, the two half means are correlated
    over stimuli; the correlations are averaged over splits and corrected to full length.
    With ``n_bootstrap`` > 0, stimuli are resampled to give a bootstrap distribution
    (bootstrap, neuroid) of the ceiling as well.
    """
    first, second = half_means(responses, split_halves(responses.shape[-1], n_splits, seed))
    result = {"ceiling": spearman_brown(pearson_columns(first, second, axis=1).mean(axis=0))}
    if n_bootstrap:
        rng = np.random.default_rng(seed)
        n_stimuli = responses.shape[0]
        samples = np.empty((n_bootstrap, responses.shape[1]))
        for b in range(n_bootstrap):
            idx = rng.integers(0, n_stimuli, n_stimuli)
            r = pearson_columns(first[:, idx], second[:, idx], axis=1)
            samples[b] = spearman_brown(r.mean(axis=0))
        result["bootstrap"] = samples
    return result


def ceiled_score(raw: np.ndarray, ceiling: np.ndarray, formula: str) -> np.ndarray:
    """Apply a named ceiling formula (``r/c``, ``(r/c)^2`` or ``r^2/c``)."""
    if formula not in CEILING_FORMULAS:
        raise ValueError(f"unknown ceiling formula {formula!r}; valid: {sorted(CEILING_FORMULAS)}")
    return CEILING_FORMULAS[formula](np.asarray(raw), np.asarray(ceiling))


def bootstrap_indices(n: int, n_bootstrap: int, seed: int) -> np.ndarray:
    """Seeded bootstrap resamples of ``range(n)`` (bootstrap, n)."""
    return np.random.default_rng(seed).integers(0, n, size=(n_bootstrap, n))


def percentile_ci(samples: np.ndarray, level: float = 0.95, axis: int = 0) -> np.ndarray:
    """Percentile confidence interval (low, high) along ``axis``."""
    tail = 50 * (1 - level)
    return np.nanpercentile(samples, [tail, 100 - tail], axis=axis)


def sem(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """Standard error of the mean along ``axis``."""
    values = np.asarray(values)
    return values.std(axis=axis, ddof=1) / np.sqrt(values.shape[axis])
