"""The canonical neural dataset format: validation on read, stimulus images checked.

A dataset is an ``xarray.Dataset`` with

- ``responses(stimulus, neuroid, repetition)`` float32, NaN where a repetition is missing,
  and/or ``maps(stimulus, neuroid, y, x)`` float32 (spatially resolved responses, NaN where a
  position was not shown; optionally the single presentations in
  ``map_repetitions(stimulus, neuroid, y, x, repetition)``), and/or
  ``rdm(subject, stimulus, stimulus_other)`` for RDM-only datasets;
- coords ``stimulus_id`` and ``image_path`` on ``stimulus``; ``neuroid_id``, ``region`` and
  ``subject`` on ``neuroid`` (when there is a ``neuroid`` dim); optional ``object``/``category``;
- attrs ``dataset``, ``citation``, ``license``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import xarray as xr
from PIL import Image

from neuralign.io.artifacts import open_netcdf

REQUIRED_ATTRS = ("dataset", "citation", "license")
STIMULUS_COORDS = ("stimulus_id", "image_path")
NEUROID_COORDS = ("neuroid_id", "region", "subject")
# optional variable: a ceiling per neuroid given with the data (e.g. a published value)
GIVEN = "ceiling_given"


class DatasetError(ValueError):
    """A dataset file or object does not follow the canonical format."""


def validate_dataset(ds: xr.Dataset, source: str = "<in memory>") -> xr.Dataset:
    """Check dims, coords, dtypes and the NaN policy; return ``ds`` or raise DatasetError."""

    def fail(what: str) -> None:
        raise DatasetError(f"{source}: {what}")

    if not {"responses", "maps", "rdm"} & set(ds.data_vars):
        fail("has none of the variables 'responses', 'maps' and 'rdm'")
    for attr in REQUIRED_ATTRS:
        if attr not in ds.attrs:
            fail(f"attribute '{attr}' is missing")
    if "stimulus" not in ds.dims:
        fail("has no 'stimulus' dimension")
    for coord in STIMULUS_COORDS:
        if coord not in ds.coords or ds[coord].dims != ("stimulus",):
            fail(f"coordinate '{coord}' along 'stimulus' is missing")
    ids, counts = np.unique(ds["stimulus_id"].values.astype(str), return_counts=True)
    if (counts > 1).any():
        repeated = [f"'{i}' ({c} times)" for i, c in zip(ids, counts, strict=True) if c > 1]
        fail(f"'stimulus_id' values are not unique: {', '.join(repeated[:5])}")
    if "responses" in ds:
        _validate_neural(ds, "responses", ("stimulus", "neuroid", "repetition"), fail)
    if "maps" in ds:
        _validate_neural(ds, "maps", ("stimulus", "neuroid", "y", "x"), fail)
        for coord in ("y", "x"):
            if coord not in ds.coords:
                fail(f"coordinate '{coord}' (position in degrees) of 'maps' is missing")
    if "map_repetitions" in ds:
        reps = ds["map_repetitions"]
        dims = ("stimulus", "neuroid", "y", "x", "repetition")
        if "maps" not in ds or reps.dims != dims or reps.dtype != np.float32:
            fail(
                f"'map_repetitions' has dims {reps.dims} and dtype {reps.dtype}; expected "
                f"float32 {dims} beside 'maps'"
            )
    if "rdm" in ds:
        rdm = ds["rdm"]
        if rdm.dims != ("subject", "stimulus", "stimulus_other"):
            fail(f"'rdm' has dims {rdm.dims}, expected ('subject', 'stimulus', 'stimulus_other')")
        if ds.sizes["stimulus"] != ds.sizes["stimulus_other"]:
            fail("'rdm' is not square")
        if not np.isfinite(rdm.values).all():
            fail("'rdm' contains NaN or infinite values")
    return ds


def _validate_neural(ds: xr.Dataset, name: str, dims: tuple[str, ...], fail) -> None:
    """Dims, dtype, neuroid coords and NaN policy of ``responses`` or ``maps``."""
    values = ds[name]
    if values.dims != dims:
        fail(f"'{name}' has dims {values.dims}, expected {dims}")
    if values.dtype != np.float32:
        fail(f"'{name}' has dtype {values.dtype}, expected float32")
    for coord in NEUROID_COORDS:
        if coord not in ds.coords or ds[coord].dims != ("neuroid",):
            fail(f"coordinate '{coord}' along 'neuroid' is missing")
    stimuli, neuroids = ds["stimulus_id"].values, ds["neuroid_id"].values
    inf = np.isinf(values.values)
    if inf.any():
        stim, neuroid = np.argwhere(inf)[0][:2]
        fail(
            f"'{name}' contains {int(inf.sum())} infinite value(s), the first at stimulus "
            f"'{stimuli[stim]}', neuroid '{neuroids[neuroid]}'"
        )
    observed = np.isfinite(values.values).reshape(*values.shape[:2], -1).any(axis=2)
    if not observed.all():
        stim, neuroid = np.argwhere(~observed)[0]
        fail(
            f"every (stimulus, neuroid) pair of '{name}' needs at least one finite value; "
            f"stimulus '{stimuli[stim]}', neuroid '{neuroids[neuroid]}' has none "
            f"({int((~observed).sum())} such pairs)"
        )


def copy_images(files: list[Path], image_dir: str | os.PathLike) -> list[Path]:
    """Copy stimulus images into ``image_dir`` (keeping their names); the copies' paths."""
    image_dir = Path(image_dir)
    image_dir.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copyfile(path, image_dir / Path(path).name)) for path in files]


def image_path_values(paths: list[Path], relative_to: str | os.PathLike | None = None) -> list[str]:
    """``image_path`` coordinate values: relative to ``relative_to`` (the dataset file's folder,
    where readers resolve them) when given, else absolute."""
    if relative_to is None:
        return [str(Path(path).resolve()) for path in paths]
    return [os.path.relpath(path, relative_to) for path in paths]


def open_dataset(path: str | os.PathLike) -> xr.Dataset:
    """Open (``neuralign.io.artifacts.open_netcdf``) and validate a dataset artifact."""
    return validate_dataset(open_netcdf(path), str(path))


def strata(ds: xr.Dataset) -> np.ndarray | None:
    """The labels that stratify the cross-validation splits: each stimulus's ``object``, when
    the dataset has that coordinate."""
    return ds["object"].values if "object" in ds.coords else None


def stimulus_images(ds: xr.Dataset, dataset_path: str | os.PathLike) -> list[str]:
    """The stimulus image files of the dataset read from ``dataset_path`` (``image_path`` is
    relative to its folder), each decoded once so that a missing or replaced image stops the
    job before any model loads, naming the dataset file that lists it and how to rebuild it."""
    root = Path(dataset_path).parent
    paths = []
    for stimulus, relative in zip(ds["stimulus_id"].values, ds["image_path"].values, strict=True):
        path = root / str(relative)
        try:
            with Image.open(path) as image:
                image.load()
        except (OSError, ValueError) as err:
            raise DatasetError(
                f"{path}: cannot be read as an image ({type(err).__name__}: {err}); "
                f"{dataset_path} lists it as stimulus {str(stimulus)!r}. Rebuild the dataset "
                f"and its images: rerun with `--forcerun {dataset_path}`"
            ) from err
        paths.append(str(path))
    return paths
