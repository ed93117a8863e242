"""Decoding (neural → model units) and encoding (model units → neural) on a fixed train/test
split, as in the fMRI experiment: ridge with one alpha per target chosen by leave-one-out on the
training stimuli, Pearson r per target on the test stimuli."""

from __future__ import annotations

import numpy as np

from neuralign.fitting.metrics import pearson_columns
from neuralign.fitting.scoring import MappingSpec, fit_mapping


def sample_units(n_features: int, n_units: int, seed: int) -> np.ndarray:
    """Seeded choice of ``n_units`` feature indices (all of them, in order, if fewer exist)."""
    if n_units >= n_features:
        return np.arange(n_features)
    return np.sort(np.random.default_rng(seed).choice(n_features, n_units, replace=False))


def heldout_scores(
    source: np.ndarray,
    target: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    mapping: MappingSpec | None = None,
) -> np.ndarray:
    """Pearson r per target column on ``test`` of a mapping from ``source`` fitted on ``train``.

    Decoding: ``source`` = voxels, ``target`` = model units; encoding: the other way round.
    """
    predict, _, _ = fit_mapping(mapping or MappingSpec(), source[train], target[train])
    return pearson_columns(predict(source[test]), target[test])
