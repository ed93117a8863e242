"""Angular Procrustes shape distance (Williams, Kunz, Kornblith & Linderman, NeurIPS 2021),
with the alignment fitted on training stimuli and evaluated on held-out ones.

Unit and neuroid counts are reconciled by PCA: the layer's features are reduced to their first
k = min(q, n_train − 1) principal components (q neuroids), fitted on the training stimuli (from
the Gram matrix of the layer, so the features are never copied, or from the features' scatter
matrix when there are fewer features than training stimuli; either is decomposed in float32
under ``ridge_precision: mixed``, which keeps held-out values within 1e-6 of float64); the
neuroids are kept as they are. Both sides are centred on their training means. The alignment
is the orthogonal map Q (k × q, orthonormal rows: a rotation, or an isometric embedding when
k < q) maximising ⟨Z_train Q, Y_train⟩, i.e. Q = U Vᵀ from the SVD of Z_trainᵀ Y_train, as in
netrep's ``LinearMetric(alpha=1)`` with zero padding. On held-out stimuli the value is the cosine
⟨Z Q, Y⟩ / (‖Z Q‖ ‖Y‖) and the angular distance is its arccos: 0 for representations that
differ by a rotation and a scale, π/2 for orthogonal ones. It is invariant to rotations,
permutations and isotropic scaling of the units. The layer is picked by fitting the alignment on
one half of the training stimuli and scoring it on the other, both ways.

Ceiling: for a model whose units are the noise-free responses R, Q is (close to) the identity
and the cosine is ⟨R, Y⟩ / (‖R‖ ‖Y‖) ≈ ‖R‖ / ‖Y‖, Y = R + noise (centred, held-out stimuli).
With A, B the means of two halves of the repetitions, E⟨A, B⟩ = ‖R‖² (their noises are
independent with mean zero), so the ceiling is √(⟨A, B⟩ / ‖Y‖²), ⟨A, B⟩ averaged over halvings.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from neuralign.fitting.alignment.base import (
    AlignmentSpec,
    Layer,
    Neural,
    Scored,
    Split,
    inner_folds,
    per_resample,
)
from neuralign.fitting.alignment.kernels import centred_block


def pca_scores(layer: Layer, fit: np.ndarray, apply: np.ndarray, n_components: int):
    """Scores of the ``fit`` and ``apply`` stimuli on the first principal components of the
    ``fit`` stimuli's features: from the features' covariance when there are fewer features
    than ``fit`` stimuli, else from the layer's Gram matrix of all stimuli; decomposed in the
    layer's Gram precision."""
    dtype = layer.gram_dtype
    if layer.features.shape[1] < len(fit):
        return covariance_pca_scores(layer.features, fit, apply, n_components, dtype)
    return gram_pca_scores(layer.gram, fit, apply, n_components, dtype)


def _top_eigen(matrix: np.ndarray, k: int, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest eigenvalues of a symmetric matrix and their vectors (in float64),
    those not numerically zero, computed in ``dtype``."""
    n = len(matrix)
    values, vectors = scipy.linalg.eigh(
        matrix.astype(dtype, copy=False), subset_by_index=[n - k, n - 1], driver="evr"
    )
    keep = values > max(values.max(), 0.0) * n * np.finfo(dtype).eps
    return values[keep].astype(np.float64), vectors[:, keep].astype(np.float64)


def gram_pca_scores(
    gram: np.ndarray, fit: np.ndarray, apply: np.ndarray, n_components: int, dtype=np.float64
):
    """``pca_scores`` from the Gram matrix of all stimuli (the features are never copied)."""
    centred = centred_block(gram, fit, fit, fit)
    values, vectors = _top_eigen(centred, max(min(n_components, len(fit) - 1), 1), dtype)
    scale = np.sqrt(values)
    return vectors * scale, centred_block(gram, apply, fit, fit) @ vectors / scale


def covariance_pca_scores(
    features: np.ndarray, fit: np.ndarray, apply: np.ndarray, n_components: int, dtype=np.float64
):
    """``pca_scores`` from the (feature × feature) scatter matrix of the ``fit`` stimuli."""
    chosen = features[fit]
    mean = chosen.mean(axis=0)
    centred = chosen - mean
    k = max(min(n_components, len(fit) - 1, features.shape[1]), 1)
    _, vectors = _top_eigen(centred.T @ centred, k, dtype)
    return centred @ vectors, (features[apply] - mean) @ vectors


def aligned(layer: Layer, y: np.ndarray, fit: np.ndarray, apply: np.ndarray):
    """The ``apply`` stimuli' model components mapped by the Procrustes alignment fitted on
    the ``fit`` stimuli, and their centred neural responses."""
    z_fit, z_apply = pca_scores(layer, fit, apply, y.shape[1])
    mean = y[fit].mean(axis=0)
    u, _, vt = np.linalg.svd(z_fit.T @ (y[fit] - mean), full_matrices=False)
    return z_apply @ (u @ vt), y[apply] - mean


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """⟨a, b⟩ / (‖a‖ ‖b‖) of two matrices (Frobenius)."""
    denominator = np.linalg.norm(a) * np.linalg.norm(b)
    return float((a * b).sum() / denominator) if denominator > 0 else np.nan


def angular_distance(similarity: float) -> float:
    """Angular distance (radians) of a cosine similarity."""
    return float(np.arccos(np.clip(similarity, -1.0, 1.0)))


def score_procrustes(layer: Layer, neural: Neural, split: Split, spec: AlignmentSpec) -> Scored:
    """Cosine of the angular Procrustes distance on held-out stimuli (module doc)."""
    y = neural.targets
    train = np.mean([cosine(*aligned(layer, y, a, b)) for a, b in inner_folds(split)])
    model, measured = aligned(layer, y, split.train, split.test)
    return Scored(
        train=float(train), test=per_resample(lambda pick: cosine(model[pick], measured[pick]))
    )


def ceiling_procrustes(neural: Neural, split: Split, spec: AlignmentSpec):
    """√(⟨A, B⟩ / ‖Y‖²) on the resampled held-out stimuli (module doc)."""
    first, second = neural.halves
    train, test = split.train, split.test
    with np.errstate(invalid="ignore"):
        a = first[:, test] - np.nanmean(first[:, train], axis=1, keepdims=True)
        b = second[:, test] - np.nanmean(second[:, train], axis=1, keepdims=True)
    y = neural.targets[test] - neural.targets[train].mean(axis=0)

    def ceiling(pick: np.ndarray) -> float:
        product = a[:, pick] * b[:, pick]
        valid = np.isfinite(product)  # a half without repetitions of a stimulus is left out
        signal = np.where(valid, product, 0.0).sum()
        power = np.where(valid, (y[pick] ** 2)[None], 0.0).sum()
        return float(np.sqrt(max(signal, 0.0) / power)) if power > 0 else np.nan

    return per_resample(ceiling)
