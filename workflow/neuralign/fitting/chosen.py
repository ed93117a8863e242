"""The layer a fits artifact chose: read by the score tables and by fits that reuse a layer
chosen on another dataset. Light to import (no torch or scikit-learn)."""

from __future__ import annotations

from collections import Counter

import xarray as xr


def most_chosen_layer(fit: xr.Dataset) -> tuple[str, int]:
    """The layer chosen in most splits of a fits artifact, and in how many."""
    return Counter(fit["chosen_layer"].values.tolist()).most_common(1)[0]
