"""The canonical neural dataset format: validation on read, atomic writes.

A dataset is an ``xarray.Dataset`` with

- ``responses(stimulus, neuroid, repetition)`` float32, NaN where a repetition is missing,
  and/or ``rdm(subject, stimulus, stimulus_other)`` for RDM-only datasets;
- coords ``stimulus_id`` and ``image_path`` on ``stimulus``; ``neuroid_id``, ``region`` and
  ``subject`` on ``neuroid`` (when there is a ``neuroid`` dim); optional ``object``/``category``;
- attrs ``dataset``, ``citation``, ``license``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

REQUIRED_ATTRS = ("dataset", "citation", "license")
STIMULUS_COORDS = ("stimulus_id", "image_path")
NEUROID_COORDS = ("neuroid_id", "region", "subject")


class DatasetError(ValueError):
    """A dataset file or object does not follow the canonical format."""


def validate_dataset(ds: xr.Dataset, source: str = "<in memory>") -> xr.Dataset:
    """Check dims, coords, dtypes and the NaN policy; return ``ds`` or raise DatasetError."""

    def fail(what: str) -> None:
        raise DatasetError(f"{source}: {what}")

    if "responses" not in ds and "rdm" not in ds:
        fail("has neither a 'responses' nor an 'rdm' variable")
    for attr in REQUIRED_ATTRS:
        if attr not in ds.attrs:
            fail(f"attribute '{attr}' is missing")
    if "stimulus" not in ds.dims:
        fail("has no 'stimulus' dimension")
    for coord in STIMULUS_COORDS:
        if coord not in ds.coords or ds[coord].dims != ("stimulus",):
            fail(f"coordinate '{coord}' along 'stimulus' is missing")
    if len(np.unique(ds["stimulus_id"].values)) != ds.sizes["stimulus"]:
        fail("'stimulus_id' values are not unique")
    if "responses" in ds:
        _validate_responses(ds, fail)
    if "rdm" in ds:
        rdm = ds["rdm"]
        if rdm.dims != ("subject", "stimulus", "stimulus_other"):
            fail(f"'rdm' has dims {rdm.dims}, expected ('subject', 'stimulus', 'stimulus_other')")
        if ds.sizes["stimulus"] != ds.sizes["stimulus_other"]:
            fail("'rdm' is not square")
        if not np.isfinite(rdm.values).all():
            fail("'rdm' contains NaN or infinite values")
    return ds


def _validate_responses(ds: xr.Dataset, fail) -> None:
    resp = ds["responses"]
    if resp.dims != ("stimulus", "neuroid", "repetition"):
        fail(f"'responses' has dims {resp.dims}, expected ('stimulus', 'neuroid', 'repetition')")
    if resp.dtype != np.float32:
        fail(f"'responses' has dtype {resp.dtype}, expected float32")
    for coord in NEUROID_COORDS:
        if coord not in ds.coords or ds[coord].dims != ("neuroid",):
            fail(f"coordinate '{coord}' along 'neuroid' is missing")
    if np.isinf(resp.values).any():
        fail("'responses' contains infinite values")
    observed = np.isfinite(resp.values).any(axis=2)
    if not observed.all():
        stim, neuroid = np.argwhere(~observed)[0]
        fail(
            "every (stimulus, neuroid) pair needs at least one repetition; "
            f"stimulus {ds['stimulus_id'].values[stim]!r}, "
            f"neuroid {ds['neuroid_id'].values[neuroid]!r} has none"
        )


def open_dataset(path: str | os.PathLike) -> xr.Dataset:
    """Open and validate a dataset artifact, loading it into memory."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path}: file does not exist")
    try:
        with xr.open_dataset(path) as ds:
            ds = ds.load()
    except (OSError, ValueError) as err:
        raise DatasetError(f"{path}: cannot be read as netCDF ({err})") from err
    return validate_dataset(ds, str(path))


def write_netcdf(ds: xr.Dataset, path: str | os.PathLike) -> None:
    """Write ``ds`` to ``path`` atomically (a temporary file, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        ds.to_netcdf(tmp, engine="netcdf4")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
