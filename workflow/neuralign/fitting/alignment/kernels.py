"""Stimulus-by-stimulus (Gram) computations: unbiased HSIC and CKA, correlation RDMs.

Every kernel metric of a layer works from one Gram matrix ``K = X Xᵀ`` over all stimuli
(computed once per layer and shared by every split): the blocks of a split, centred on the
training stimuli' mean, give PCA scores (Procrustes), the linear-kernel HSIC (CKA) and the
correlation-distance RDM (RSA) without touching the features again.

Unbiased HSIC (Song et al. 2012, JMLR 13:1393, eq. 5) is the U-statistic of
``HSIC = E[k_ij l_ij] + E[k_ij] E[l_qr] − 2 E[k_ij l_iq]`` over distinct stimuli i, j, q, r:
each of the three expectations is estimated by its mean over tuples of *distinct* stimuli
(so no kernel diagonal enters). ``hsic`` computes the three sums in closed form, with optional
integer weights (bootstrap multiplicities): a tuple of distinct original stimuli then counts
with the product of their weights and tuples that repeat an original stimulus are left out,
which keeps a bootstrap resample free of the noise-driven diagonal terms the estimator exists
to avoid. With unit weights this is exactly Song et al.'s estimator (tests compare it with
thingsvision's unbiased CKA).
"""

from __future__ import annotations

import numpy as np


def centred_block(gram: np.ndarray, rows, cols, reference) -> np.ndarray:
    """``(x_r − μ)·(x_c − μ)`` for stimuli ``rows`` × ``cols`` from the Gram matrix of all
    stimuli, μ the mean feature vector of the ``reference`` stimuli."""
    weights = np.zeros(len(gram))
    weights[reference] = 1.0 / len(reference)
    m = gram @ weights  # x_i · μ for every stimulus i (a product: no copy of the columns)
    c = m[reference].mean()  # μ · μ
    block = gram[np.ix_(rows, cols)]
    block -= m[rows][:, None]
    block -= m[cols][None, :]
    block += c
    return block


def _u_sums(k: np.ndarray, m: np.ndarray, w: np.ndarray) -> tuple[float, float, float]:
    """Weighted sums of k_ij m_ij (pairs), k_ij m_iq (triples) and k_ij m_qr (quadruples)
    over tuples of distinct indices; ``k`` and ``m`` have zero diagonals."""
    km = k * m

    def pairs(a, b):  # Σ_{i≠j} a_i b_j k_ij m_ij
        return a @ km @ b

    def triples(a, b, c):  # Σ_{i,j,q distinct} a_i b_j c_q k_ij m_iq
        return a @ ((k @ b) * (m @ c)) - a @ km @ (b * c)

    w2 = w * w
    quads = (w @ k @ w) * (w @ m @ w) - 4 * triples(w2, w, w) - 2 * pairs(w2, w2)
    return pairs(w, w), triples(w, w, w), quads


def _u_counts(w: np.ndarray) -> tuple[float, float, float]:
    """``_u_sums`` with k = l = 1 off the diagonal: the summed weights of each tuple set."""
    s1, s2, s3, s4 = (float((w**e).sum()) for e in (1, 2, 3, 4))
    pairs = s1 * s1 - s2
    triples = s1**3 - 3 * s2 * s1 + 2 * s3
    # quadruples = pairs² − 4 T(w², w, w) − 2 P(w², w²), by inclusion–exclusion as in _u_sums
    t = s2 * s1 * s1 - s3 * s1 - s3 * s1 - s2 * s2 + 2 * s4
    quads = pairs * pairs - 4 * t - 2 * (s2 * s2 - s4)
    return pairs, triples, quads


def _zero_diagonal(k: np.ndarray) -> np.ndarray:
    k = k.copy()
    np.fill_diagonal(k, 0.0)
    return k


def _hsic(k: np.ndarray, m: np.ndarray, w: np.ndarray) -> float:
    """``hsic`` of Gram matrices whose diagonals are already zero."""
    if np.count_nonzero(w) < 4:
        return np.nan
    a, c, b = _u_sums(k, m, w)
    count_a, count_c, count_b = _u_counts(w)
    return float(a / count_a + b / count_b - 2 * c / count_c)


def hsic(k: np.ndarray, m: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Unbiased HSIC of two (linear-kernel) Gram matrices over the same stimuli (module doc);
    ``weights``: integer multiplicity of each stimulus (a bootstrap resample)."""
    w = np.ones(len(k)) if weights is None else np.asarray(weights, dtype=np.float64)
    return _hsic(_zero_diagonal(k), _zero_diagonal(m), w)


def cka(k: np.ndarray, m: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Linear CKA with unbiased HSIC (Kornblith et al. 2019 with Song et al.'s estimator) of
    the Gram matrices ``k`` and ``m`` of two representations of the same stimuli."""
    w = np.ones(len(k)) if weights is None else np.asarray(weights, dtype=np.float64)
    k, m = _zero_diagonal(k), _zero_diagonal(m)
    denominator = _hsic(k, k, w) * _hsic(m, m, w)
    return float(_hsic(k, m, w) / np.sqrt(denominator)) if denominator > 0 else np.nan


def correlation_rdm(gram: np.ndarray, row_sums: np.ndarray, n_features: int) -> np.ndarray:
    """1 − Pearson r between the stimuli's feature vectors, from their Gram matrix and the
    sums of their features (the same matrix as ``rsa.rdm`` on the features)."""
    cov = gram - np.outer(row_sums, row_sums) / n_features
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1.0 - cov / np.outer(sd, sd)


class RankedPairs:
    """The dissimilarities of all pairs of a stimulus set, sorted once, so that Spearman's
    r over any resample of the stimuli (a pair (s, t) of distinct originals counted
    w_s · w_t times) costs one pass over the pairs instead of a sort."""

    def __init__(self, matrix: np.ndarray):
        self.n = matrix.shape[0]
        self.first, self.second = np.triu_indices(matrix.shape[0], k=1)
        values = matrix[self.first, self.second]
        self.valid = np.isfinite(values)
        self.order = np.argsort(values)  # ties share a mid-rank: no stable sort needed
        ordered = values[self.order]
        self.group = np.concatenate([[0], np.cumsum(ordered[1:] != ordered[:-1])])

    def pair_weights(self, weights: np.ndarray) -> np.ndarray:
        """Multiplicity of each pair in a resample with stimulus ``weights``."""
        return weights[self.first] * weights[self.second] * self.valid

    def ranks(self, pair_weights: np.ndarray) -> np.ndarray:
        """Mid-ranks of the pairs within the weighted multiset (1-based, ties averaged)."""
        in_group = np.bincount(self.group, weights=pair_weights[self.order])
        mid = np.cumsum(in_group) - in_group + (in_group + 1) / 2
        ranks = np.empty(len(pair_weights))
        ranks[self.order] = mid[self.group]
        return ranks


def weighted_pearson(a: np.ndarray, b: np.ndarray, weights: np.ndarray) -> float:
    """Pearson r of ``a`` and ``b`` with each element counted ``weights`` times."""
    keep = weights > 0
    a, b, w = a[keep], b[keep], weights[keep]
    a = a - np.average(a, weights=w)
    b = b - np.average(b, weights=w)
    denominator = np.sqrt((w * a * a).sum() * (w * b * b).sum())
    return float((w * a * b).sum() / denominator) if denominator > 0 else np.nan


def rdm_spearman(x: RankedPairs, y: RankedPairs, weights: np.ndarray | None = None) -> float:
    """Spearman's r between two RDMs of the same stimuli over the pairs of distinct stimuli
    of a resample (stimulus multiplicities ``weights``; all pairs once when None)."""
    w = np.ones(x.n) if weights is None else np.asarray(weights, dtype=np.float64)
    pairs = x.pair_weights(w) * y.valid
    return weighted_pearson(x.ranks(pairs), y.ranks(pairs), pairs)
