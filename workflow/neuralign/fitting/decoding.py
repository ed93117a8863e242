"""Decoding (neural → model units) and encoding (model units → neural) on a fixed train/test
split, as in the fMRI experiment: ridge with one alpha per target chosen by leave-one-out on the
training stimuli, Pearson r per target on the test stimuli."""

from __future__ import annotations

import numpy as np


def sample_units(n_features: int, n_units: int, seed: int) -> np.ndarray:
    """Seeded choice of ``n_units`` feature indices (all of them, in order, if fewer exist)."""
    if n_units >= n_features:
        return np.arange(n_features)
    return np.sort(np.random.default_rng(seed).choice(n_features, n_units, replace=False))
