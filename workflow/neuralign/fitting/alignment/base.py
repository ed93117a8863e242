"""What every alignment metric works on: a layer, the neural data, a split, the settings.

A metric scores one layer on one split as a ``Scored``: a value on the training stimuli that
picks the layer, and an evaluation on the held-out stimuli that takes a resample ``pick``
(indices into the split's test stimuli, with repetition) so that one function gives both the
held-out value (``pick = arange``) and its bootstrap distribution; given a (resample, stimulus)
array it returns one value per resample. A ceiling is the same kind of evaluation, built from
two halves of the repetitions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property

import numpy as np

from neuralign.fitting import rsa
from neuralign.fitting.alignment.kernels import RankedPairs, RDMComparison, correlation_rdm
from neuralign.fitting.mappings import MAPPING_OPTIONS, MappingSpec
from neuralign.fitting.metrics import pearson_columns, spearman_brown

Evaluation = Callable[[np.ndarray], float]


@dataclass(frozen=True)
class AlignmentSpec:
    """Settings of the alignment panel (every random choice has its seed).

    ``mapping``: ridge alphas and PLS components (ridge, pls; reverse uses its alphas);
    ``n_halvings``: random halvings of the repetitions for every ceiling; ``max_units``: the
    seeded subset of a layer's units that soft matching and reverse predictivity use;
    ``inner_seed``: the halving of the training stimuli on which fitted metrics pick a layer.
    """

    cv: str = "shuffle"
    n_splits: int = 10
    train_size: float = 0.9
    split_seed: int = 1
    n_bootstrap: int = 1000
    bootstrap_seed: int = 0
    n_halvings: int = 10
    halving_seed: int = 0
    max_units: int = 1000
    unit_seed: int = 0
    inner_seed: int = 0
    mapping: MappingSpec = field(default_factory=MappingSpec)

    @classmethod
    def from_options(cls, options: Mapping) -> AlignmentSpec:
        """The spec of a flat options dict: this class's fields, and ``MappingSpec``'s
        (except ``kind``, which each metric sets) for ``mapping``."""
        own = {f.name for f in fields(cls)} - {"mapping"}
        unknown = set(options) - own - set(MAPPING_OPTIONS)
        if unknown:
            raise ValueError(f"unknown alignment options {sorted(unknown)}; valid: {sorted(own)}")
        mapping = MappingSpec.from_options({k: options[k] for k in MAPPING_OPTIONS if k in options})
        return cls(**{k: v for k, v in options.items() if k in own}, mapping=mapping)


@dataclass
class Layer:
    """One layer's features (stimulus, feature) over all stimuli; the Gram matrix and RDM
    are computed on first use and shared by every split. ``gram_dtype``: precision of the
    Gram matrix product (``np.float32`` under ``ridge_precision: mixed``)."""

    features: np.ndarray
    gram_dtype: type = np.float64
    _compared: tuple = field(default=(None, None), repr=False)

    @cached_property
    def mean(self) -> np.ndarray:
        return self.features.mean(axis=0)

    @cached_property
    def gram(self) -> np.ndarray:
        """``(x_i − μ)·(x_j − μ)``, μ the mean over all stimuli. Every metric centres it on
        a set of stimuli, which this shift leaves unchanged; without μ's share the product
        loses no precision to that centring, even in float32."""
        shape = self.features.shape
        centred = np.subtract(
            self.features, self.mean, out=np.empty(shape, self.gram_dtype), casting="same_kind"
        )
        return (centred @ centred.T).astype(np.float64, copy=False)

    @cached_property
    def rdm(self) -> np.ndarray:
        """1 − Pearson r between the stimuli's feature vectors (``rsa.rdm``), from ``gram``."""
        mu = self.mean
        offsets = self.features @ mu - mu @ mu / 2  # x_i·x_j = gram_ij + offsets_i + offsets_j
        return correlation_rdm(
            self.gram, self.features.sum(axis=1), self.features.shape[1], offsets
        )

    @cached_property
    def ranked(self) -> RankedPairs:
        """The pairs of all stimuli, ranked once; a split's training pairs are a weighting."""
        return RankedPairs.of(self.rdm)

    def compared_with(self, neural: Neural) -> RDMComparison:
        """This layer's ranked pairs against the neural ones, all stimuli (built once)."""
        if self._compared[0] is not neural:
            self._compared = (neural, RDMComparison(self.ranked, neural.ranked))
        return self._compared[1]

    def units(self, max_units: int, seed: int, multiple_of: int = 1) -> np.ndarray:
        """A seeded subset of at most ``max_units`` units (all when fewer), sorted; its size
        rounded down to a multiple of ``multiple_of`` when there are that many."""
        n = self.features.shape[1]
        keep = min(n, max_units)
        if keep >= multiple_of:
            keep -= keep % multiple_of
        if keep == n:
            return np.arange(n)
        return np.sort(np.random.default_rng(seed).choice(n, keep, replace=False))


@dataclass
class Neural:
    """Repetition-averaged responses (stimulus, neuroid) and, when there are repetitions,
    ``halves``: the two half means (halving, stimulus, neuroid) of random halvings."""

    targets: np.ndarray
    halves: tuple[np.ndarray, np.ndarray] | None
    _ranked: dict = field(default_factory=dict, repr=False)
    _reliability: dict = field(default_factory=dict, repr=False)

    @cached_property
    def gram(self) -> np.ndarray:
        return self.targets @ self.targets.T

    @cached_property
    def rdm(self) -> np.ndarray:
        return rsa.rdm(self.targets)

    @cached_property
    def ranked(self) -> RankedPairs:
        """The pairs of all stimuli, ranked once."""
        return RankedPairs.of(self.rdm)

    def ranked_pairs(self, rows: np.ndarray) -> RankedPairs:
        """The ranked RDM pairs of the stimuli ``rows`` (computed once per stimulus set)."""
        key = np.asarray(rows).tobytes()
        if key not in self._ranked:
            self._ranked[key] = RankedPairs.of(self.rdm[np.ix_(rows, rows)])
        return self._ranked[key]


@dataclass(frozen=True)
class Split:
    """Training and held-out stimuli, and a seeded halving of the training stimuli (the
    inner folds on which fitted metrics score layers out of sample)."""

    train: np.ndarray
    test: np.ndarray
    inner: tuple[np.ndarray, np.ndarray]

    @classmethod
    def make(cls, train: np.ndarray, test: np.ndarray, seed: int) -> Split:
        order = np.random.default_rng(seed).permutation(train)
        half = len(order) // 2
        return cls(train, test, (np.sort(order[:half]), np.sort(order[half:])))


@dataclass
class Scored:
    """One metric on one layer and split: ``train`` picks the layer, ``test(pick)`` is the
    value on a resample of the held-out stimuli (one value per row of a 2-d ``pick``)."""

    train: float
    test: Evaluation


def inner_folds(split: Split) -> list[tuple[np.ndarray, np.ndarray]]:
    """The two inner folds (fit, evaluate) of a split's training stimuli."""
    a, b = split.inner
    return [(a, b), (b, a)]


@dataclass
class UnitStats:
    """Sufficient statistics of unit–neuroid correlations over a set of stimuli; two sets
    add up, so the inner folds' statistics give the training stimuli's for free."""

    sxy: np.ndarray  # (unit, neuroid) Σ x y
    sx: np.ndarray
    sxx: np.ndarray
    sy: np.ndarray
    syy: np.ndarray
    n: int

    @classmethod
    def of_folds(cls, x: np.ndarray, y: np.ndarray, folds) -> list[UnitStats]:
        """Statistics of each fold (index arrays) in one pass over ``x`` (no row copies)."""
        weights = np.zeros((len(folds), len(x)))
        for f, rows in enumerate(folds):
            weights[f, rows] = 1.0
        stacked = np.concatenate([w[:, None] * y for w in weights], axis=1)
        sxy = np.split(x.T @ stacked, len(folds), axis=1)
        sx, sy = weights @ x, weights @ y
        sxx = np.stack([np.einsum("ij,ij,i->j", x, x, w) for w in weights])
        syy = weights @ (y * y)
        return [
            cls(sxy[f], sx[f], sxx[f], sy[f], syy[f], len(rows)) for f, rows in enumerate(folds)
        ]

    def __add__(self, other: UnitStats) -> UnitStats:
        return UnitStats(
            *(getattr(self, k) + getattr(other, k) for k in ("sxy", "sx", "sxx", "sy", "syy")),
            self.n + other.n,
        )

    def correlation(self) -> np.ndarray:
        """Pearson r (unit, neuroid); a unit constant over the stimuli correlates 0 (it has
        no tuning)."""
        cov = self.sxy - np.outer(self.sx, self.sy) / self.n
        var_x = np.clip(self.sxx - self.sx**2 / self.n, 0.0, None)
        var_y = np.clip(self.syy - self.sy**2 / self.n, 0.0, None)
        norms = np.sqrt(np.outer(var_x, var_y))
        tiny = norms <= 1e-12 * max(float(norms.max()), 1e-300)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(tiny, 0.0, cov / np.where(tiny, 1.0, norms))


RESAMPLE_CHUNK = 32  # resamples evaluated at once by the vectorised evaluations


def _chunks(picks: np.ndarray) -> list[np.ndarray]:
    return np.array_split(picks, -(-len(picks) // RESAMPLE_CHUNK))


def per_resample(evaluate: Evaluation) -> Evaluation:
    """An evaluation of one resample, applied to every row of a (resample, stimulus) array."""

    def apply(pick: np.ndarray):
        pick = np.asarray(pick)
        return evaluate(pick) if pick.ndim == 1 else np.array([evaluate(p) for p in pick])

    return apply


def resample_counts(pick: np.ndarray, n: int) -> np.ndarray:
    """How often each of ``n`` stimuli is drawn in each resample: (resample, stimulus)."""
    counts = np.zeros((len(pick), n))
    np.add.at(counts, (np.arange(len(pick))[:, None], pick), 1.0)
    return counts


def resampled_r(a: np.ndarray, b: np.ndarray, pick: np.ndarray) -> np.ndarray:
    """Pearson r between matching columns of ``a`` and ``b`` (stimulus, column) over the rows
    ``pick``: (column,), or (resample, column) for a (resample, stimulus) ``pick``.

    Every resample at once from weighted sums: with ``W`` the resample counts, the sums over a
    resample's rows of x, y, x², y², xy are ``W @ x`` and so on, taken on columns centred over
    all rows, which keeps the one-pass covariance exact to ~1e-15. Columns holding NaN are
    resampled row by row instead (their NaN rows are left out, as ``pearson_columns`` does)."""
    pick = np.asarray(pick)
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if pick.ndim == 1:
        return pearson_columns(a[pick], b[pick])
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return np.concatenate([pearson_columns(a[c], b[c], axis=1) for c in _chunks(pick)])
    counts, m = resample_counts(pick, len(a)), pick.shape[1]
    a, b = a - a.mean(axis=0), b - b.mean(axis=0)
    sum_a, sum_b = counts @ a, counts @ b
    covariance = counts @ (a * b) - sum_a * sum_b / m
    variances = (counts @ (a * a) - sum_a**2 / m) * (counts @ (b * b) - sum_b**2 / m)
    with np.errstate(invalid="ignore", divide="ignore"):
        return covariance / np.sqrt(variances)


def reliability_index(neural: Neural, test: np.ndarray, pick: np.ndarray) -> np.ndarray:
    """Per neuroid, the correlation of the noise-free response with the measured mean over
    the resampled held-out stimuli: √(Spearman–Brown(r̄)) with r̄ the split-half r averaged
    over halvings (0 where the reliability is not positive); one row per resample for a 2-d
    ``pick``. Computed once per resample and shared by the metrics that use it."""
    pick = np.asarray(pick)
    key = (test.tobytes(), pick.tobytes(), pick.shape)
    if key not in neural._reliability:
        first, second = (half[:, test] for half in neural.halves)
        r = np.mean([resampled_r(f, s, pick) for f, s in zip(first, second, strict=True)], axis=0)
        neural._reliability[key] = np.sqrt(np.clip(spearman_brown(r), 0.0, None))
    return neural._reliability[key]
