"""Closed-form representational similarity: linear CKA (unbiased) and RSA on responses.

Nothing is fitted, so each is computed on the held-out stimuli of every split and its value on
the training stimuli picks the layer.

- **CKA**: linear CKA with the unbiased HSIC estimator (Kornblith et al. 2019, ICML; Song et al.
  2012), between the layer's features and the repetition-averaged responses.
  Ceiling: for noise-free responses R and measured Y = R + E, HSIC(R, Y) ≈ HSIC(R, R) (the noise
  has mean zero given R), so CKA(R, Y) ≈ √(HSIC(R, R) / HSIC(Y, Y)). HSIC(Y, Y) also holds the
  noise's own covariance, but the cross-half HSIC(A, B) of the means of two halves of the
  repetitions estimates HSIC(R, R) without bias (independent noises): the ceiling is
  √(HSIC(A, B) / HSIC(Y, Y)), HSIC(A, B) averaged over halvings.
- **RSA**: the layer's RDM (1 − Pearson r between stimuli) against the RDM of the responses
  (``neuralign.fitting.rsa.rdm``), compared by Spearman's r over the pairs of held-out stimuli.
  Ceiling: by classical test theory the correlation of a measurement with its noise-free value
  is √(its reliability); the reliability of the full-data RDM is the Spearman–Brown corrected
  correlation of the two half-data RDMs, so the ceiling is √(SB(r̄(RDM_A, RDM_B))), r̄ averaged
  over halvings (an approximation: RDM noise is not exactly additive).

Bootstrap resamples count a stimulus drawn w times with weight w and never pair it with itself
(``neuralign.fitting.alignment.kernels``).
"""

from __future__ import annotations

import numpy as np

from neuralign.fitting.alignment.base import (
    AlignmentSpec,
    Layer,
    Neural,
    Scored,
    Split,
    per_resample,
)
from neuralign.fitting.alignment.kernels import (
    RankedPairs,
    RDMComparison,
    centred_block,
    cka,
    hsic,
)
from neuralign.fitting.metrics import spearman_brown
from neuralign.fitting.rsa import rdm


def _centred(gram: np.ndarray, pick: np.ndarray):
    """Gram block of a resample's distinct stimuli, centred on the resample's mean, and the
    stimuli's multiplicities."""
    weights = np.bincount(pick, minlength=len(gram)).astype(np.float64)
    distinct = np.flatnonzero(weights)
    mean = gram @ weights / len(pick)  # x_i · μ, μ the resample's mean
    centre = weights @ mean / len(pick)  # μ · μ
    block = gram[np.ix_(distinct, distinct)] - mean[distinct][:, None] - mean[distinct] + centre
    return block, weights[distinct]


def score_cka(layer: Layer, neural: Neural, split: Split, spec: AlignmentSpec) -> Scored:
    """Unbiased linear CKA on the held-out stimuli (module doc)."""
    model, brain = layer.gram, neural.gram
    train, test = split.train, np.ix_(split.test, split.test)
    value = cka(*(centred_block(g, train, train, train) for g in (model, brain)), overwrite=True)
    model_test, brain_test = model[test], brain[test]

    def test(pick: np.ndarray) -> float:
        (k, weights), (m, _) = _centred(model_test, pick), _centred(brain_test, pick)
        return cka(k, m, weights, overwrite=True)

    return Scored(train=value, test=per_resample(test))


def score_rsa(layer: Layer, neural: Neural, split: Split, spec: AlignmentSpec) -> Scored:
    """Spearman's r between model and neural RDMs on the held-out stimuli (module doc)."""
    training = np.zeros(len(neural.targets))
    training[split.train] = 1.0  # the training pairs: those of two stimuli of weight 1
    value = layer.compared_with(neural)(training)
    test = np.ix_(split.test, split.test)
    held = RDMComparison(RankedPairs.of(layer.rdm[test]), neural.ranked_pairs(split.test))
    n_test = len(split.test)
    return Scored(
        train=value, test=per_resample(lambda pick: held(np.bincount(pick, minlength=n_test)))
    )


def _complete_test_halves(neural: Neural, split: Split):
    """Half means of the held-out stimuli that have both halves in every halving (a stimulus
    with a single repetition cannot enter a split-half estimate)."""
    first, second = (half[:, split.test] for half in neural.halves)
    complete = np.isfinite(first).all(axis=(0, 2)) & np.isfinite(second).all(axis=(0, 2))
    return first, second, complete


def ceiling_cka(neural: Neural, split: Split, spec: AlignmentSpec):
    """√(HSIC(A, B) / HSIC(Y, Y)) on the resampled held-out stimuli (module doc)."""
    first, second, complete = _complete_test_halves(neural, split)
    y = neural.targets[split.test]
    grams = [(a @ a.T, b @ b.T) for a, b in zip(first, second, strict=True)]
    gram_y = y @ y.T

    def ceiling(pick: np.ndarray) -> float:
        pick = pick[complete[pick]]
        (ky, w) = _centred(gram_y, pick)
        signal = np.mean(
            [hsic(_centred(a, pick)[0], _centred(b, pick)[0], w, overwrite=True) for a, b in grams]
        )
        total = hsic(ky, ky, w, overwrite=True)
        return float(np.sqrt(signal / total)) if signal > 0 and total > 0 else np.nan

    return per_resample(ceiling)


def ceiling_rsa(neural: Neural, split: Split, spec: AlignmentSpec):
    """√(SB(r̄(RDM_A, RDM_B))) on the resampled held-out stimuli (module doc)."""
    first, second, complete = _complete_test_halves(neural, split)
    halves = [
        RDMComparison(RankedPairs.of(rdm(a)), RankedPairs.of(rdm(b)))
        for a, b in zip(first, second, strict=True)
    ]

    def ceiling(pick: np.ndarray) -> float:
        weights = np.bincount(pick[complete[pick]], minlength=len(complete))
        r = np.mean([compare(weights) for compare in halves])
        return float(np.sqrt(max(spearman_brown(r), 0.0)))

    return per_resample(ceiling)
