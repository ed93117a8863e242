"""The noise ceiling of every neuroid of a dataset, and which kind of ceiling it is.

- **given**: the dataset carries ``ceiling_given(neuroid)`` (a user dataset's published
  ceiling, one value or one per neuroid; its ``source`` attr says where it comes from);
- **split-half**: responses with repeated presentations get the Spearman–Brown corrected
  split-half reliability over repetitions (``metrics.split_half_ceiling``);
- **not available**: a dataset published only as repeat averages (one repetition) has no
  ceiling; its models are scored by raw r only, and every table and figure says so.
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from neuralign.fitting.metrics import percentile_ci, split_half_ceiling
from neuralign.io.dataset import GIVEN

NOT_AVAILABLE = (
    "not available: the dataset has no repeated presentations (responses averaged over "
    "repeats), so no split-half ceiling; scores are raw r"
)


def has_repetitions(responses: np.ndarray) -> bool:
    """Whether some (stimulus, neuroid) of (stimulus, neuroid, repetition) ``responses`` has
    two or more values, so that a split-half ceiling can be estimated."""
    return bool((np.isfinite(responses).sum(axis=-1) >= 2).any())


def dataset_ceiling(ds: xr.Dataset, n_splits: int, seed: int, n_bootstrap: int) -> xr.Dataset:
    """Per-neuroid ceiling with 95% CIs (NaN where not estimated), their median, and attrs
    ``ceiling_source`` (one line saying which kind) and ``method``."""
    if GIVEN in ds:
        ceiling = ds[GIVEN].values.astype(np.float64)
        nan = np.full_like(ceiling, np.nan)
        source = f"given: {ds[GIVEN].attrs.get('source', 'by the dataset')}"
        return _ceiling_dataset(ds, ceiling, nan, nan, (np.nan, np.nan), source, source, seed)
    responses = ds["responses"].values
    if not has_repetitions(responses):
        nan = np.full(responses.shape[1], np.nan)
        return _ceiling_dataset(
            ds, nan, nan, nan, (np.nan, np.nan), NOT_AVAILABLE, NOT_AVAILABLE, seed
        )
    result = split_half_ceiling(responses, n_splits, seed, n_bootstrap)
    low, high = percentile_ci(result["bootstrap"])
    median_ci = percentile_ci(np.nanmedian(result["bootstrap"], axis=1))
    method = (
        "split-half over repetitions, Pearson r per neuroid averaged over "
        f"{n_splits} seeded splits, Spearman-Brown corrected; 95% CIs from {n_bootstrap} "
        "bootstrap resamples of stimuli"
    )
    source = f"split-half over repetitions ({n_splits} splits, Spearman-Brown corrected)"
    return _ceiling_dataset(ds, result["ceiling"], low, high, median_ci, method, source, seed)


def _ceiling_dataset(ds, ceiling, low, high, median_ci, method, source, seed) -> xr.Dataset:
    with warnings.catch_warnings():  # an all-NaN ceiling (not available) has a NaN median
        warnings.simplefilter("ignore", RuntimeWarning)
        median = float(np.nanmedian(ceiling))
    return xr.Dataset(
        {
            "ceiling": ("neuroid", ceiling),
            "ceiling_ci_low": ("neuroid", low),
            "ceiling_ci_high": ("neuroid", high),
            "median": ((), median),
            "median_ci_low": ((), float(median_ci[0])),
            "median_ci_high": ((), float(median_ci[1])),
        },
        coords={"neuroid_id": ("neuroid", ds["neuroid_id"].values)},
        attrs={
            "dataset": ds.attrs["dataset"],
            "method": method,
            "ceiling_source": source,
            "seed": seed,
        },
    )
