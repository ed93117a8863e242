"""Soft matching (Khosla & Williams 2023, "Soft matching distance: a metric on neural
representations that captures single-neuron tuning", UniReps, PMLR 243).

Units and neuroids are matched by optimal transport: a plan P (unit × neuroid) with uniform
marginals (each unit sends 1/p, each neuroid receives 1/q) that maximises Σ P_ij r_ij, r the
Pearson correlation of unit i and neuroid j over the training stimuli. On z-scored tuning curves
‖x̂_i − ŷ_j‖² = 2 − 2 r_ij, so this plan is the one of the soft matching distance; the value is
Σ P_ij r_ij over the held-out stimuli (1 when every unit is matched to a neuroid with the same
tuning). Unlike CKA or Procrustes it changes when the units are rotated: it sees single units.

The transport problem is solved exactly: with uniform marginals and L = lcm(p, q), repeating
every unit L/p times and every neuroid L/q times turns it into an L × L assignment problem,
whose optimum is a vertex of the transport polytope (scipy's ``linear_sum_assignment``). To
keep L small the layer contributes a seeded subset of at most ``max_units`` units, its size
rounded down to a multiple of the neuroid count (then L = that size). The layer is picked by
fitting the plan on one half of the training stimuli and scoring it on the other, both ways.

Ceiling: for a model whose units are the noise-free responses, the plan pairs each neuroid with
its own noise-free response, which correlates √ρ_j with the measured mean (ρ_j: Spearman–Brown
split-half reliability), so the ceiling is mean_j √ρ_j on the held-out stimuli. (Near-duplicate
neuroids could trade partners and do slightly better: then it is a lower bound.)
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import linear_sum_assignment

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

TRANSPORT_LIMIT = 4096  # largest L of the L × L assignment problem


def uniform_transport(benefit: np.ndarray) -> np.ndarray:
    """The transport plan (p, q) with uniform marginals that maximises Σ P ∘ benefit."""
    p, q = benefit.shape
    size = math.lcm(p, q)
    if size > TRANSPORT_LIMIT:
        raise ValueError(
            f"soft matching of {p} units with {q} neuroids needs a {size} x {size} "
            f"assignment problem (limit {TRANSPORT_LIMIT}); lower the panel's max_units"
        )
    repeat_rows, repeat_cols = size // p, size // q
    expanded = np.repeat(np.repeat(benefit, repeat_rows, axis=0), repeat_cols, axis=1)
    rows, cols = linear_sum_assignment(expanded, maximize=True)
    plan = np.zeros((p, q))
    np.add.at(plan, (rows // repeat_rows, cols // repeat_cols), 1.0 / size)
    return plan


def score_soft_matching(layer: Layer, neural: Neural, split: Split, spec: AlignmentSpec) -> Scored:
    """Transport plan on the training stimuli, matched correlation on held-out ones."""
    y = neural.targets
    units = layer.units(spec.max_units, spec.unit_seed, multiple_of=y.shape[1])
    x = layer.features[:, units]
    first, second = UnitStats.of_folds(x, y, split.inner)
    train = np.mean(
        [
            (uniform_transport(fit.correlation()) * held.correlation()).sum()
            for fit, held in [(first, second), (second, first)]
        ]
    )
    plan = uniform_transport((first + second).correlation())
    unit, neuroid = np.nonzero(plan)
    weight = plan[unit, neuroid]
    matched_x = x[np.ix_(split.test, unit)]
    matched_y = y[split.test][:, neuroid]

    def test(pick: np.ndarray):
        r = resampled_r(matched_x, matched_y, pick)
        return np.nan_to_num(r) @ weight  # a constant unit has no tuning: r = 0

    return Scored(train=float(train), test=test)


def ceiling_soft_matching(neural: Neural, split: Split, spec: AlignmentSpec):
    """mean_j √ρ_j over the resampled held-out stimuli (module doc)."""
    return lambda pick: np.nanmean(reliability_index(neural, split.test, pick), axis=-1)
