"""Reverse predictivity (Muzellec & Kar 2025, bioRxiv 10.1101/2025.08.08.669382; code:
vital-kolab/reverse_pred): the neuroids predict each model unit.

Ridge maps the repetition-averaged responses of all neuroids to each unit of the layer (one
alpha per unit by exact leave-one-out, ``neuralign.fitting.ridge``), fitted on the training stimuli;
the value is the median over units of the Pearson r between predicted and actual activations
on the held-out stimuli. The layer is picked by the leave-one-out predictions of the training
stimuli. Large layers contribute a seeded subset of at most ``max_units`` units.

Ceiling (neuron-to-neuron predictivity): the value for a model whose units are the noise-free
responses R, i.e. how well the measured means Y of all neuroids predict R_j. Two sources of
information about R_j have independent errors: the other neuroids (ridge from Y_{−j} to Y_j,
fitted on the training stimuli: their prediction's correlation with R_j is
c₁ = r(pred, Y_j) / √ρ_j on held-out stimuli, since Y_j's noise is independent of it) and the
neuroid's own mean (c₂ = √ρ_j; ρ_j the Spearman–Brown split-half reliability). Combining
predictors with independent errors adds their signal-to-noise ratios c²/(1 − c²), so the
ceiling is the median over neuroids of √(s / (1 + s)), s = c₁²/(1 − c₁²) + c₂²/(1 − c₂²).
It assumes the ridge from all neuroids weighs the two optimally; its shared penalty and finite
training set do a little worse (on the demo's simulated neurons the truth was within 0.002; on
smoother simulated tuning 0.015 below the estimate).
Muzellec & Kar normalise by monkey-to-monkey predictivity; with one population, the other
neuroids' prediction of each neuroid plays that part.
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
    reliability_index,
    resampled_r,
)
from neuralign.fitting.alignment.predictivity import median_r
from neuralign.fitting.mappings import MappingSpec

TARGET_CHUNK = 256  # units fitted at once: bounds the (stimulus, unit) LOO arrays


def _ridge(spec: AlignmentSpec) -> MappingSpec:
    return dataclasses.replace(spec.mapping, kind="ridge")


def score_reverse(layer: Layer, neural: Neural, split: Split, spec: AlignmentSpec) -> Scored:
    """Median r of the units predicted from the neuroids on held-out stimuli (module doc)."""
    units = layer.units(spec.max_units, spec.unit_seed)
    x = layer.features[:, units]
    y = neural.targets
    fitted = mappings.fit(_ridge(spec), y[split.train], x[split.train], max_targets=TARGET_CHUNK)
    predicted, actual = fitted.predict(y[split.test]), x[split.test]
    return Scored(
        train=median_r(fitted.inner, x[split.train]),
        test=lambda pick: np.nanmedian(resampled_r(predicted, actual, pick), axis=-1),
    )


def ceiling_reverse(neural: Neural, split: Split, spec: AlignmentSpec):
    """Neuron-to-neuron predictivity on the resampled held-out stimuli (module doc)."""
    y = neural.targets
    n_neuroids = y.shape[1]
    from_others = np.zeros((len(split.test), n_neuroids))
    for j in range(n_neuroids if n_neuroids > 1 else 0):
        rest = np.delete(np.arange(n_neuroids), j)
        fitted = mappings.fit(_ridge(spec), y[np.ix_(split.train, rest)], y[split.train, j : j + 1])
        from_others[:, j] = fitted.predict(y[np.ix_(split.test, rest)])[:, 0]
    measured = y[split.test]

    def ceiling(pick: np.ndarray):
        rho = reliability_index(neural, split.test, pick) ** 2  # SB(r̄), 0 where not positive
        r = resampled_r(from_others, measured, pick) if n_neuroids > 1 else 0 * rho
        with np.errstate(invalid="ignore", divide="ignore"):
            others = np.clip(np.where(r > 0, r**2 / rho, 0.0), 0.0, 1 - 1e-12)
            snr = others / (1 - others) + rho / (1 - rho)
            value = np.where((rho > 0) & (rho < 1), np.sqrt(snr / (1 + snr)), np.nan)
        return np.nanmedian(np.where(rho >= 1, 1.0, value), axis=-1)

    return ceiling
