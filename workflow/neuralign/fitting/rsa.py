"""Representational similarity analysis: model RDMs, RDM comparison, noise ceilings.

- ``rdm``: 1 − Pearson correlation between the stimulus patterns;
- ``compare_rdms``: Spearman r or Kendall's τ-a between the upper triangles;
- ``noise_ceiling``: the lower and upper bounds of Nili et al. (2014) for a group of subject
  RDMs: the mean correlation of each subject's RDM with the mean of the *other* subjects (lower)
  and with the mean of *all* subjects (upper), on rank-transformed RDMs for rank measures.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

METHODS = ("spearman", "kendall_tau_a")


def rdm(features: np.ndarray) -> np.ndarray:
    """Dissimilarity matrix (stimulus, stimulus): 1 − Pearson r between rows of ``features``."""
    return 1.0 - np.corrcoef(np.asarray(features, dtype=np.float64))


def upper(matrix: np.ndarray) -> np.ndarray:
    """The entries above the diagonal, row by row."""
    return matrix[np.triu_indices(matrix.shape[0], k=1)]


def kendall_tau_a(a: np.ndarray, b: np.ndarray) -> float:
    """Kendall's τ-a: (concordant − discordant pairs) / all pairs; ties count as neither."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    n = len(a)
    total = 0
    for start in range(0, n, 1024):  # blocks keep the sign matrices small
        stop = min(start + 1024, n)
        sign_a = np.sign(a[start:stop, None] - a[None, :])
        sign_b = np.sign(b[start:stop, None] - b[None, :])
        total += int((sign_a * sign_b).sum())
    return total / (n * (n - 1))  # each pair was counted twice


def compare_rdms(a: np.ndarray, b: np.ndarray, method: str = "spearman") -> float:
    """Similarity of two RDMs (square matrices or upper triangles)."""
    a, b = (upper(m) if m.ndim == 2 else m for m in (np.asarray(a), np.asarray(b)))
    if method == "spearman":
        return float(stats.spearmanr(a, b)[0])
    if method == "kendall_tau_a":
        return kendall_tau_a(a, b)
    raise ValueError(f"unknown RDM comparison {method!r}; valid: {', '.join(METHODS)}")


def noise_ceiling(subject_rdms: np.ndarray, method: str = "spearman") -> tuple[float, float]:
    """(lower, upper) bound of the best possible mean similarity to the subjects' RDMs."""
    vectors = np.stack([upper(m) if m.ndim == 2 else m for m in subject_rdms])
    if len(vectors) < 2:
        raise ValueError("a noise ceiling needs at least two subject RDMs")
    ranked = np.stack([stats.rankdata(v) for v in vectors])
    mean_all = ranked.mean(axis=0)
    upper_bound = np.mean([compare_rdms(v, mean_all, method) for v in vectors])
    lower_bound = np.mean(
        [
            compare_rdms(v, np.delete(ranked, i, axis=0).mean(axis=0), method)
            for i, v in enumerate(vectors)
        ]
    )
    return float(lower_bound), float(upper_bound)


def stimulus_split_scores(
    layer_rdms: dict[str, np.ndarray],
    target: np.ndarray,
    n_splits: int,
    seed: int,
    method: str = "spearman",
) -> dict[str, np.ndarray]:
    """Layer chosen on one half of the stimuli, scored on the other, for random halvings.

    Returns ``scores`` (split,) of the chosen layers on held-out stimuli, ``chosen`` (split,)
    layer indices, and ``per_layer`` (layer, split) held-out scores of every layer.
    """
    layers = list(layer_rdms)
    n = target.shape[0]
    rng = np.random.default_rng(seed)
    per_layer = np.empty((len(layers), n_splits))
    chosen = np.empty(n_splits, dtype=int)
    for s in range(n_splits):
        order = rng.permutation(n)
        pick, held = np.sort(order[: n // 2]), np.sort(order[n // 2 :])
        on_pick = [
            compare_rdms(layer_rdms[k][np.ix_(pick, pick)], target[np.ix_(pick, pick)], method)
            for k in layers
        ]
        chosen[s] = int(np.argmax(on_pick))
        per_layer[:, s] = [
            compare_rdms(layer_rdms[k][np.ix_(held, held)], target[np.ix_(held, held)], method)
            for k in layers
        ]
    return {
        "scores": per_layer[chosen, np.arange(n_splits)],
        "chosen": chosen,
        "per_layer": per_layer,
    }
