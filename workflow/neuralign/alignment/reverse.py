"""Reverse predictivity (Muzellec & Kar 2025, bioRxiv 10.1101/2025.08.08.669382; code:
vital-kolab/reverse_pred): the neuroids predict each model unit.

Ridge maps the repetition-averaged responses of all neuroids to each unit of the layer (one
alpha per unit by exact leave-one-out, ``neuralign.ridge``), fitted on the training stimuli;
the value is the median over units of the Pearson r between predicted and actual activations
on the held-out stimuli. The layer is picked by the leave-one-out predictions of the training
stimuli. Large layers contribute a seeded subset of at most ``max_units`` units.

Ceiling (neuron-to-neuron predictivity): the value for a model whose units are the noise-free
responses R, i.e. how well the recorded population predicts a noise-free copy of each of its
own neuroids. With A, B the means of two halves of the repetitions, ridge from all neuroids of
A (training stimuli) predicts neuroid j of B; on held-out stimuli B's noise is independent of
the prediction, so corr(pred, B_j) = corr(pred, R_j) · √ρ_j (ρ_j: split-half r of neuroid j).
Predictors of full rather than half length raise a prediction that rests on the neuroid's own
response from √ρ_j to √SB(ρ_j) (Spearman–Brown). The ceiling is the median over neuroids of
r(pred_A, B_j) · √SB(ρ_j) / ρ_j, averaged over halvings and both directions (A→B, B→A); it is
exact when each neuroid's best predictor is its own response and approximate otherwise.
Muzellec & Kar normalise by monkey-to-monkey predictivity; with one population, the
population's prediction of its own held-out repetitions plays that part.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from neuralign.alignment.base import AlignmentSpec, Layer, Neural, Scored, Split
from neuralign.alignment.predictivity import median_r
from neuralign.fitting import MappingSpec, fit_mapping
from neuralign.metrics import pearson_columns, spearman_brown

TARGET_CHUNK = 256  # units fitted at once: bounds the (alpha, stimulus, unit) LOO arrays


def reverse_fit(predictors: np.ndarray, targets: np.ndarray, apply: np.ndarray, mapping):
    """Ridge from ``predictors`` to every column of ``targets`` (in chunks): leave-one-out
    predictions of the fitting stimuli and predictions for ``apply``."""
    loo, predicted = [], []
    for chunk in np.array_split(np.arange(targets.shape[1]), -(-targets.shape[1] // TARGET_CHUNK)):
        predict, inner, _ = fit_mapping(mapping, predictors, targets[:, chunk])
        loo.append(inner)
        predicted.append(predict(apply))
    return np.hstack(loo), np.hstack(predicted)


def _ridge(spec: AlignmentSpec) -> MappingSpec:
    return dataclasses.replace(spec.mapping, kind="ridge")


def score_reverse(layer: Layer, neural: Neural, split: Split, spec: AlignmentSpec) -> Scored:
    """Median r of the units predicted from the neuroids on held-out stimuli (module doc)."""
    units = layer.units(spec.max_units, spec.unit_seed)
    x = layer.features[:, units]
    y = neural.targets
    loo, predicted = reverse_fit(y[split.train], x[split.train], y[split.test], _ridge(spec))
    actual = x[split.test]
    return Scored(
        train=median_r(loo, x[split.train]),
        test=lambda pick: median_r(predicted[pick], actual[pick]),
    )


def ceiling_reverse(neural: Neural, split: Split, spec: AlignmentSpec):
    """Neuron-to-neuron predictivity on the resampled held-out stimuli (module doc)."""
    mapping = _ridge(spec)
    fits = []  # (prediction of the held-out stimuli, the predicted half there)
    halves = list(zip(*neural.halves, strict=True))
    for a, b in halves:
        rows = split.train[np.isfinite(a[split.train]).all(1) & np.isfinite(b[split.train]).all(1)]
        for source, target in ((a, b), (b, a)):
            predicted = reverse_fit(source[rows], target[rows], source[split.test], mapping)[1]
            fits.append((predicted, target[split.test]))
    test_halves = [(a[split.test], b[split.test]) for a, b in halves]

    def ceiling(pick: np.ndarray) -> float:
        r = np.mean([pearson_columns(p[pick], t[pick]) for p, t in fits], axis=0)
        rho = np.mean([pearson_columns(a[pick], b[pick]) for a, b in test_halves], axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(rho > 0, r * np.sqrt(spearman_brown(rho)) / rho, np.nan)
        return float(np.nanmedian(value))

    return ceiling
