"""Stimulus-by-stimulus (Gram) computations: unbiased HSIC and CKA, correlation RDMs.

Every kernel metric of a layer works from one Gram matrix ``K = X Xᵀ`` over all stimuli, X
centred on its mean over them (computed once per layer and shared by every split): the
blocks of a split, centred on the training stimuli' mean, give PCA scores (Procrustes) and
the linear-kernel HSIC (CKA), and with the mean's share added back the correlation-distance
RDM (RSA), without touching the features again. RSA ranks an RDM's pairs with one sort
(``sorted_pairs``) and compares rankings over resamples, or over the training stimuli of a
split (weight 1, the others 0), without sorting again.

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

RDM_BLOCK = 256  # rows of an RDM computed at once


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


def _u_sums(k: np.ndarray, m: np.ndarray, w: np.ndarray | None) -> tuple[float, float, float]:
    """Weighted sums of k_ij m_ij (pairs), k_ij m_iq (triples) and k_ij m_qr (quadruples)
    over tuples of distinct indices; ``k`` and ``m`` have zero diagonals. Unit weights
    (``w`` None) need only ``Σ k∘m`` and the row sums: no product matrix."""
    if w is None:
        pairs = float(np.vdot(k, m))
        row_k, row_m = k.sum(axis=1), m.sum(axis=1)  # Gram matrices are symmetric
        triples = float(row_k @ row_m) - pairs
        return pairs, triples, float(row_k.sum() * row_m.sum()) - 4 * triples - 2 * pairs

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


def _zero_diagonals(overwrite: bool, *grams: np.ndarray) -> list[np.ndarray]:
    """The Gram matrices with zero diagonals: copies, or the matrices themselves."""
    grams = [g if overwrite else g.copy() for g in grams]
    for g in grams:
        np.fill_diagonal(g, 0.0)
    return grams


def _hsic(k: np.ndarray, m: np.ndarray, w: np.ndarray | None) -> float:
    """``hsic`` of Gram matrices whose diagonals are already zero (``w`` None: unit weights)."""
    counted = np.ones(len(k)) if w is None else w
    if np.count_nonzero(counted) < 4:
        return np.nan
    a, c, b = _u_sums(k, m, w)
    count_a, count_c, count_b = _u_counts(counted)
    return float(a / count_a + b / count_b - 2 * c / count_c)


def _weights(weights: np.ndarray | None) -> np.ndarray | None:
    return None if weights is None else np.asarray(weights, dtype=np.float64)


def hsic(
    k: np.ndarray, m: np.ndarray, weights: np.ndarray | None = None, overwrite: bool = False
) -> float:
    """Unbiased HSIC of two (linear-kernel) Gram matrices over the same stimuli (module doc);
    ``weights``: integer multiplicity of each stimulus (a bootstrap resample); ``overwrite``:
    ``k`` and ``m`` may be changed (their diagonals zeroed) instead of copied."""
    return _hsic(*_zero_diagonals(overwrite, k, m), _weights(weights))


def cka(
    k: np.ndarray, m: np.ndarray, weights: np.ndarray | None = None, overwrite: bool = False
) -> float:
    """Linear CKA with unbiased HSIC (Kornblith et al. 2019 with Song et al.'s estimator) of
    the Gram matrices ``k`` and ``m`` of two representations of the same stimuli (``weights``
    and ``overwrite`` as in ``hsic``)."""
    w = _weights(weights)
    k, m = _zero_diagonals(overwrite, k, m)
    denominator = _hsic(k, k, w) * _hsic(m, m, w)
    return float(_hsic(k, m, w) / np.sqrt(denominator)) if denominator > 0 else np.nan


def correlation_rdm(
    gram: np.ndarray, row_sums: np.ndarray, n_features: int, offsets: np.ndarray | None = None
) -> np.ndarray:
    """1 − Pearson r between the stimuli's feature vectors, from their Gram matrix
    ``x_i·x_j = gram_ij + offsets_i + offsets_j`` and the sums of their features (the same
    matrix as ``rsa.rdm`` on the features); computed a block of rows at a time, so that the
    only full-size array is the result."""
    offsets = np.zeros(len(gram)) if offsets is None else offsets
    scaled = row_sums / np.sqrt(n_features)
    variance = np.diag(gram) + 2 * offsets - scaled**2
    sd = np.sqrt(np.clip(variance, 0.0, None))
    out = np.empty(gram.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        for start in range(0, len(gram), RDM_BLOCK):
            rows = slice(start, start + RDM_BLOCK)
            block = gram[rows] + offsets[rows, None]
            block += offsets[None, :]
            block -= np.outer(scaled[rows], scaled)
            block /= sd[rows, None]
            block /= sd[None, :]
            np.subtract(1.0, block, out=out[rows])
    return out


def sorted_pairs(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs i < j of a symmetric matrix in ascending order of their values: (i, j,
    value), NaN at an end. One sort of 64-bit integers, each a value's leading bits (as an
    integer that orders like the float) above the pair's two indices, instead of a several
    times slower argsort; runs of pairs whose leading bits tie are then put in exact order.
    The keys are written a row at a time, in place: no other array of every pair is made
    before the sort."""
    matrix = np.ascontiguousarray(matrix, dtype=np.float64)
    n = len(matrix)
    width = max(1, (n - 1).bit_length())  # bits of a stimulus index
    low = np.uint64(2 * width)
    columns = np.arange(n, dtype=np.uint64)
    key = np.empty(n * (n - 1) // 2, dtype=np.uint64)
    start = 0
    for i in range(n - 1):
        bits = matrix[i, i + 1 :].view(np.uint64)
        row = key[start : start + len(bits)]
        start += len(bits)
        np.right_shift(bits, np.uint64(63), out=row)  # the sign bit: flip all bits of a
        np.subtract(np.uint64(0), row, out=row)  # negative value, only the sign of a
        np.bitwise_or(row, np.uint64(1 << 63), out=row)  # positive one
        np.bitwise_xor(row, bits, out=row)
        row >>= low
        row <<= low
        row |= np.uint64(i << width)
        row |= columns[i + 1 :]
    key.sort()
    mask = np.uint64((1 << width) - 1)
    first = np.right_shift(key, np.uint64(width))
    first &= mask
    second = np.bitwise_and(key, mask)
    first, second = first.view(np.int64), second.view(np.int64)
    key >>= low
    tie = key[1:] == key[:-1]
    flat = np.multiply(first, n, out=key.view(np.int64))  # the keys are no longer needed
    flat += second
    values = matrix.ravel().take(flat)
    if tie.any():
        inside = np.flatnonzero(np.append(tie, False) | np.insert(tie, 0, False))
        run = np.cumsum(np.insert(~tie, 0, True))[inside]
        exact = inside[np.lexsort((values[inside], run))]
        first[inside], second[inside], values[inside] = first[exact], second[exact], values[exact]
    return first, second, values


class RankedPairs:
    """The dissimilarities of all pairs of a stimulus set, sorted once (pair p is the p-th of
    ``np.triu_indices(n, 1)``), so that Spearman's r over any resample of the stimuli costs
    passes over the pairs instead of a sort (``RDMComparison``)."""

    def __init__(self, n: int, first: np.ndarray, second: np.ndarray, ordered: np.ndarray):
        """Pairs (``first[k]`` < ``second[k]``) of ``n`` stimuli in ascending order of their
        dissimilarities ``ordered`` (``of`` sorts a matrix's pairs)."""
        self.stimuli = (first, second)
        order = 2 * n - 1 - first  # pair indices first (2n − first − 1) / 2 + second − first − 1,
        order *= first  # in place: arrays of every pair are costly to allocate
        order //= 2
        order += second
        order -= first
        order -= 1
        self.order = order
        self.valid = np.isfinite(ordered)  # in sorted order, as every array here
        changes = ordered[1:] != ordered[:-1]
        self.tied = not changes.all()
        self.group = np.zeros(len(ordered), dtype=np.int64) if self.tied else None
        if self.tied:  # tie groups: pairs of equal dissimilarity share their mid-rank
            np.cumsum(changes, out=self.group[1:])

    @classmethod
    def of(cls, matrix: np.ndarray) -> RankedPairs:
        """The ranked pairs of a dissimilarity matrix."""
        return cls(len(matrix), *sorted_pairs(matrix))

    def centred_ranks(self, weights: np.ndarray) -> np.ndarray:
        """Mid-ranks of the pairs (ties averaged) in the multiset where pair k counts
        ``weights[k]`` times, minus their weighted mean, (W + 1) / 2 for a total weight W."""
        half_total = 0.5 * weights.sum()
        if self.tied:
            in_group = np.bincount(self.group, weights=weights)
            return (np.cumsum(in_group) - 0.5 * in_group - half_total)[self.group]
        centred = np.cumsum(weights)  # every pair is its own group
        centred -= 0.5 * weights + half_total
        return centred


class RDMComparison:
    """Spearman's r between two RDMs of the same stimuli over the pairs of distinct stimuli
    of a resample, a pair (s, t) of distinct originals counted w_s · w_t times: the weighted
    Pearson r of their centred mid-ranks. Works in ``x``'s order of the pairs, with the
    permutations to and from ``y``'s computed once for every resample."""

    def __init__(self, x: RankedPairs, y: RankedPairs):
        self.x, self.y = x, y
        where_in_y = np.empty(len(y.order), dtype=np.int64)
        where_in_y[y.order] = np.arange(len(y.order))
        self.to_y = where_in_y[x.order]  # y's position of each pair, in x's order
        self.to_x = np.empty_like(self.to_y)
        self.to_x[self.to_y] = np.arange(len(self.to_y))
        self.valid = x.valid & y.valid[self.to_y]

    def __call__(self, weights: np.ndarray | None = None) -> float:
        """Spearman's r for stimulus multiplicities ``weights`` (all pairs once when None)."""
        if weights is None:
            pairs = self.valid.astype(np.float64)
        else:
            w = np.asarray(weights, dtype=np.float64)
            first, second = self.x.stimuli
            pairs = w[first] * w[second] * self.valid
        a = self.x.centred_ranks(pairs)
        b = self.y.centred_ranks(pairs[self.to_x])[self.to_y]
        weighted = pairs * a
        denominator = np.sqrt((weighted @ a) * ((pairs * b) @ b))
        return float((weighted @ b) / denominator) if denominator > 0 else np.nan
