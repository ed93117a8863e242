"""Per-neuroid Pearson r metrics: linear predictivity (ridge, PLS) and one-to-one mapping.

Ridge and PLS are mappings of the registry ``neuralign.fitting.mappings``, fitted on the
training stimuli; their out-of-sample predictions of the training stimuli (exact leave-one-out
for ridge, inner folds for PLS) pick the layer. One-to-one mapping gives each neuroid the single
unit whose responses correlate best with it over the training stimuli (Pearson r, signed: the
unit's tuning must match, not mirror, the neuroid's); the layer is picked by choosing units on
one half of the training stimuli and scoring them on the other, both ways. The value is the
median over neuroids of the held-out r.

Ceiling: the value for a model whose units are the noise-free responses. Its best linear
prediction of neuroid j is the noise-free response itself, which correlates √ρ_j with the
measured mean (ρ_j: reliability of the mean, Spearman–Brown of the split-half r), so the ridge
and PLS ceiling is median_j √ρ_j on the held-out stimuli. (This is the square root of the
split-half ceiling c of ``neuralign.fitting.scoring``: ``ceiled = r/√c``, whose square is that
module's
``r²/c``.) The same holds for one-to-one mapping, whose best unit for neuroid j is then
its own noise-free response. Fitting a mapping's weights on finitely many noisy stimuli costs a
model a little of that, which the estimate leaves out: it is the limit for many training
stimuli (ridge from 48 noise-free responses fitted on 384 stimuli reaches 0.894 of 0.900).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from neuralign.fitting import mappings
from neuralign.fitting.alignment.base import (
    AlignmentSpec,
    Layer,
    Neural,
    Scored,
    Split,
    UnitStats,
    reliability_index,
    resampled_r,
)
from neuralign.fitting.metrics import pearson_columns


def median_r(a: np.ndarray, b: np.ndarray) -> float:
    """Median over columns of the Pearson r between matching columns."""
    return float(np.nanmedian(pearson_columns(a, b)))


def _linear(kind: str, layer: Layer, neural: Neural, split: Split, spec: AlignmentSpec):
    x, y = layer.features, neural.targets
    mapping = dataclasses.replace(spec.mapping, kind=kind)
    fitted = mappings.fit(mapping, x[split.train], y[split.train])
    predicted, measured = fitted.predict(x[split.test]), y[split.test]
    return Scored(
        train=median_r(fitted.inner, y[split.train]),
        test=lambda pick: np.nanmedian(resampled_r(predicted, measured, pick), axis=-1),
    )


def score_ridge(layer: Layer, neural: Neural, split: Split, spec: AlignmentSpec) -> Scored:
    """Ridge (one alpha per neuroid by exact leave-one-out on the training stimuli)."""
    return _linear("ridge", layer, neural, split, spec)


def score_pls(layer: Layer, neural: Neural, split: Split, spec: AlignmentSpec) -> Scored:
    """PLS regression (``spec.mapping.pls_components``)."""
    return _linear("pls", layer, neural, split, spec)


def best_units(stats: UnitStats) -> np.ndarray:
    """Per neuroid, the unit with the highest Pearson r."""
    return np.argmax(stats.correlation(), axis=0)


def score_one_to_one(layer: Layer, neural: Neural, split: Split, spec: AlignmentSpec) -> Scored:
    """Each neuroid's single best unit on the training stimuli, scored on held-out ones."""
    x, y = layer.features, neural.targets
    first, second = UnitStats.of_folds(x, y, split.inner)
    inner = [(first, split.inner[1]), (second, split.inner[0])]
    train = np.mean([median_r(x[np.ix_(rows, best_units(s))], y[rows]) for s, rows in inner])
    chosen = x[np.ix_(split.test, best_units(first + second))]
    measured = y[split.test]
    return Scored(
        train=float(train),
        test=lambda pick: np.nanmedian(resampled_r(chosen, measured, pick), axis=-1),
    )


def ceiling_per_neuroid_r(neural: Neural, split: Split, spec: AlignmentSpec):
    """median_j √ρ_j over the resampled held-out stimuli (module doc)."""
    return lambda pick: np.nanmedian(reliability_index(neural, split.test, pick), axis=-1)
