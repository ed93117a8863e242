"""Datasets declared in the config (``user_datasets.<name>``): the user's own recordings.

Two forms:

- ``netcdf: <file>``: a dataset already in the canonical format (``neuralign.io.dataset``); it is
  validated, its images (``image_path``, relative to the file's folder or absolute) copied
  beside the converted dataset, and ``attrs['dataset']`` set to ``<name>``;
- ``images: <folder>`` and ``responses: <file>``: a folder of images and a responses array,
  ``(stimulus, neuroid)`` or ``(stimulus, neuroid, repetition)`` (NaN marks a missing
  repetition, never a whole stimulus × neuroid), as

  - ``.npy``: a numeric array;
  - ``.nc``: the variable ``responses`` (or the file's only variable), dims in that order;
  - ``.csv``: one row per stimulus, one column per neuroid, a header row of neuroid ids
    (no repetitions).

  Which image is which row: the optional ``stimuli`` table (CSV; column ``image``, a file name
  or a path inside ``images``; optional ``stimulus_id`` and ``object``/``category``), row k
  describing responses row k; without it, the image files directly in ``images`` (png, jpg,
  jpeg, bmp, tif, tiff) sorted by file name, ``stimulus_id`` the file name without suffix.
  Optional ``neuroids`` table (CSV; ``neuroid_id``, optional ``region`` and ``subject``), row k
  describing responses column k; else ids from the CSV header or ``n000``, ``n001``..., and
  ``region``/``subject`` from the config. Optional ``ceiling``: one published value for every
  neuroid, or a ``.npy``/``.csv`` file with one value per neuroid.

Every problem raises DatasetError naming the file and what is wrong: a row count that does not
match the images, a missing image, NaN or infinite values where none may be, duplicated ids,
non-numeric values.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

import neuralign
from neuralign.io.dataset import (
    GIVEN,
    DatasetError,
    copy_images,
    image_path_values,
    open_dataset,
    validate_dataset,
)
from neuralign.io.resources import sha256_file

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
RESPONSE_SUFFIXES = (".npy", ".nc", ".csv")
STRATA = ("object", "category")


def spec_files(spec: Mapping) -> dict[str, str]:
    """The files and folders a dataset spec reads (the converter rule's inputs)."""
    keys = ("netcdf", "images", "responses", "stimuli", "neuroids")
    files = {key: spec[key] for key in keys if spec.get(key)}
    if isinstance(spec.get("ceiling"), str):
        files["ceiling"] = spec["ceiling"]
    return files


def convert_user_dataset(
    name: str,
    spec: Mapping,
    image_dir: str | os.PathLike,
    *,
    relative_to: str | os.PathLike | None = None,
) -> xr.Dataset:
    """The canonical dataset of ``user_datasets.<name>`` (``spec``), its images copied into
    ``image_dir``."""
    if spec.get("netcdf"):
        return _from_netcdf(name, Path(spec["netcdf"]), image_dir, relative_to)
    images = _stimuli(spec)
    responses = read_responses(spec["responses"])
    if responses.shape[0] != len(images):
        where = spec.get("stimuli") or f"{spec['images']} (image files sorted by name)"
        raise DatasetError(
            f"{spec['responses']}: has {responses.shape[0]} stimulus rows (shape "
            f"{responses.shape}) but {where} lists {len(images)} images; they must match "
            "row for row"
        )
    neuroids = _neuroids(spec, responses.shape[1])
    stimulus_ids = images["stimulus_id"].tolist()
    check_values(responses, spec["responses"], stimulus_ids, neuroids["neuroid_id"].tolist())
    paths = copy_images([Path(spec["images"]) / path for path in images["image"]], image_dir)
    ds = xr.Dataset(
        {"responses": (("stimulus", "neuroid", "repetition"), responses.astype(np.float32))},
        coords={
            "stimulus_id": ("stimulus", stimulus_ids),
            "image_path": ("stimulus", image_path_values(paths, relative_to)),
            **{c: ("stimulus", images[c].astype(str).tolist()) for c in STRATA if c in images},
            **{c: ("neuroid", neuroids[c].astype(str).tolist()) for c in neuroids},
        },
        attrs=_attrs(name, spec, responses.shape[2]),
    )
    if spec.get("ceiling") is not None:
        ds[GIVEN] = ("neuroid", read_ceiling(spec["ceiling"], responses.shape[1], name))
        ds[GIVEN].attrs["source"] = f"config user_datasets.{name}.ceiling ({spec['ceiling']})"
    return validate_dataset(ds, f"user dataset {name!r}")


def read_responses(path: str | os.PathLike) -> np.ndarray:
    """(stimulus, neuroid, repetition) float64 from a .npy, .nc or .csv responses file."""
    path = Path(path)
    if path.suffix.lower() not in RESPONSE_SUFFIXES:
        raise DatasetError(
            f"{path}: responses must be a {', '.join(RESPONSE_SUFFIXES)} file, not "
            f"{path.suffix or 'a file without suffix'}"
        )
    if not path.is_file():
        raise DatasetError(f"{path}: responses file does not exist")
    reader = {".npy": _read_npy, ".nc": _read_nc, ".csv": _read_csv}[path.suffix.lower()]
    array = reader(path)
    if array.ndim not in (2, 3):
        raise DatasetError(
            f"{path}: has shape {array.shape}; expected (stimulus, neuroid) or "
            "(stimulus, neuroid, repetition)"
        )
    return (array[..., None] if array.ndim == 2 else array).astype(np.float64)


def _numeric(array: np.ndarray, path: Path) -> np.ndarray:
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise DatasetError(
            f"{path}: holds non-numeric values (dtype {array.dtype}); responses must be numbers"
        )
    return array


def _read_npy(path: Path) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise DatasetError(f"{path}: cannot be read as a numeric .npy array ({err})") from err
    return _numeric(array, path)


def _read_nc(path: Path) -> np.ndarray:
    try:
        with xr.open_dataset(path) as ds:
            names = list(ds.data_vars)
            name = "responses" if "responses" in names else names[0] if len(names) == 1 else None
            if name is None:
                raise DatasetError(
                    f"{path}: holds variables {names}; name the responses 'responses'"
                )
            array = ds[name].values
    except (OSError, ValueError) as err:
        raise DatasetError(f"{path}: cannot be read as netCDF ({err})") from err
    return _numeric(array, path)


def _read_csv(path: Path) -> np.ndarray:
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    values = table.apply(pd.to_numeric, errors="coerce")
    bad = values.isna() & (table.apply(lambda column: column.str.strip()) != "")
    if bad.any().any():
        row, column = np.argwhere(bad.to_numpy())[0]
        raise DatasetError(
            f"{path}: non-numeric value '{table.iat[row, column]}' in row {row + 1} (after the "
            f"header), column '{table.columns[column]}'; responses must be numbers "
            f"({int(bad.to_numpy().sum())} such cells)"
        )
    return values.to_numpy(dtype=np.float64)


def csv_neuroid_ids(path: str | os.PathLike) -> list[str] | None:
    """The header of a .csv responses file (its neuroid ids); None for other formats."""
    if Path(path).suffix.lower() != ".csv":
        return None
    return [str(column) for column in pd.read_csv(path, nrows=0).columns]


def check_values(
    responses: np.ndarray, path: str | os.PathLike, stimulus_ids: list, neuroid_ids: list
) -> None:
    """No infinite value anywhere, and at least one finite value per stimulus × neuroid (NaN
    only marks a missing repetition); DatasetError saying where."""
    inf = np.isinf(responses)
    if inf.any():
        stim, neuroid, _ = np.argwhere(inf)[0]
        raise DatasetError(
            f"{path}: {int(inf.sum())} infinite value(s), the first at stimulus "
            f"'{stimulus_ids[stim]}', neuroid '{neuroid_ids[neuroid]}'; responses must be finite"
        )
    empty = ~np.isfinite(responses).any(axis=2)
    if empty.any():
        stim, neuroid = np.argwhere(empty)[0]
        raise DatasetError(
            f"{path}: {int(empty.sum())} stimulus × neuroid pair(s) have no value (NaN), the "
            f"first stimulus '{stimulus_ids[stim]}', neuroid '{neuroid_ids[neuroid]}'; NaN may "
            "only mark a missing repetition"
        )


def _described(path: Path, column: str, what: str) -> pd.DataFrame:
    """A table describing stimuli or neuroids, as text; DatasetError without ``column``."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if column not in table.columns:
        raise DatasetError(f"{path}: {what} needs a column '{column}'; found {list(table.columns)}")
    return table


def _duplicates(values: pd.Series) -> list[str]:
    return sorted(set(values[values.duplicated()].astype(str)))


def _stimuli(spec: Mapping) -> pd.DataFrame:
    """One row per stimulus: ``image`` (path inside the folder), ``stimulus_id``, strata."""
    folder = Path(spec["images"])
    if not folder.is_dir():
        raise DatasetError(f"{folder}: image folder does not exist")
    if spec.get("stimuli"):
        path = Path(spec["stimuli"])
        table = _described(path, "image", f"the stimulus table (file names in {folder})")
        missing = [name for name in table["image"] if not (folder / name).is_file()]
        if missing:
            raise DatasetError(
                f"{path}: {len(missing)} image(s) listed are not in {folder}, e.g. '{missing[0]}'"
            )
        if "stimulus_id" not in table.columns:
            table["stimulus_id"] = [Path(name).stem for name in table["image"]]
        where = path
    else:
        files = sorted(
            p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not files:
            raise DatasetError(f"{folder}: holds no images ({', '.join(IMAGE_SUFFIXES)})")
        table = pd.DataFrame({"image": files, "stimulus_id": [Path(f).stem for f in files]})
        where = folder
    for column, what in (("stimulus_id", "stimulus ids"), ("image", "images")):
        duplicated = _duplicates(table[column])
        if duplicated:
            raise DatasetError(f"{where}: duplicated {what} {duplicated[:5]}")
    names = table["image"].map(lambda name: Path(name).name)
    if duplicated := _duplicates(names):
        raise DatasetError(
            f"{where}: image file names {duplicated[:5]} appear in several folders; the "
            "images are copied into one folder, so give them distinct names"
        )
    return table


def _neuroids(spec: Mapping, n_neuroids: int) -> pd.DataFrame:
    """One row per neuroid: ``neuroid_id``, ``region``, ``subject``."""
    defaults = {"region": spec.get("region") or "unknown", "subject": spec.get("subject") or ""}
    if spec.get("neuroids"):
        path = Path(spec["neuroids"])
        table = _described(path, "neuroid_id", "the neuroid table")
        if len(table) != n_neuroids:
            raise DatasetError(
                f"{path}: describes {len(table)} neuroids but {spec['responses']} has "
                f"{n_neuroids} (columns of the responses)"
            )
    else:
        path = spec["responses"]
        ids = csv_neuroid_ids(path) or [f"n{k:03d}" for k in range(n_neuroids)]
        table = pd.DataFrame({"neuroid_id": ids})
    if duplicated := _duplicates(table["neuroid_id"]):
        raise DatasetError(f"{path}: duplicated neuroid ids {duplicated[:5]}")
    for column, value in defaults.items():
        if column not in table.columns:
            table[column] = value
    return table[["neuroid_id", "region", "subject"]]


def read_ceiling(value, n_neuroids: int, name: str) -> np.ndarray:
    """A given ceiling: one number for every neuroid, or a file with one per neuroid (a
    ``.npy`` array, or a ``.csv`` with a column ``ceiling`` or a single column), in the order
    of the responses' neuroids."""
    if isinstance(value, (int, float)):
        values = np.full(n_neuroids, float(value))
        where = f"config user_datasets.{name}.ceiling"
    else:
        where = Path(value)
        if not where.is_file():
            raise DatasetError(f"{where}: ceiling file does not exist")
        values = _read_npy(where) if where.suffix == ".npy" else _read_ceiling_csv(where)
        values = np.asarray(values, dtype=np.float64).ravel()
        if values.size != n_neuroids:
            raise DatasetError(f"{where}: has {values.size} ceilings for {n_neuroids} neuroids")
    if not np.isfinite(values).all() or (values <= 0).any() or (values > 1).any():
        raise DatasetError(f"{where}: ceilings must be finite numbers in (0, 1]")
    return values.astype(np.float32)


def _read_ceiling_csv(path: Path) -> np.ndarray:
    table = pd.read_csv(path)
    if "ceiling" in table.columns:
        column = table["ceiling"]
    elif table.shape[1] == 1:
        column = table.iloc[:, 0]
    else:
        raise DatasetError(
            f"{path}: a ceiling table needs a column 'ceiling' (or a single column); found "
            f"{list(table.columns)}"
        )
    values = pd.to_numeric(column, errors="coerce")
    if values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise DatasetError(
            f"{path}: ceiling in row {row + 1} is not a number ({column.iat[row]!s})"
        )
    return values.to_numpy()


def _attrs(name: str, spec: Mapping, n_repetitions: int) -> dict:
    responses = Path(spec["responses"])
    return {
        "dataset": name,
        "citation": spec.get("citation") or f"user dataset '{name}' (config user_datasets)",
        "license": spec.get("license") or "not stated",
        "response_kind": "raw_repetitions" if n_repetitions > 1 else "repeat_averaged",
        "source_responses": str(responses),
        "source_responses_sha256": sha256_file(responses),
        "neuralign_version": neuralign.__version__,
    }


def _from_netcdf(name: str, path: Path, image_dir: str | os.PathLike, relative_to) -> xr.Dataset:
    ds = open_dataset(path)
    names = pd.Series([Path(str(image)).name for image in ds["image_path"].values])
    if duplicated := _duplicates(names):
        raise DatasetError(
            f"{path}: image file names {duplicated[:5]} appear in several folders; the images "
            "are copied into one folder, so give them distinct names"
        )
    sources = []
    for image in ds["image_path"].values:
        source = Path(str(image)) if Path(str(image)).is_absolute() else path.parent / str(image)
        if not source.is_file():
            raise DatasetError(f"{path}: image_path '{image}' is not a file ({source})")
        sources.append(source)
    copies = image_path_values(copy_images(sources, image_dir), relative_to)
    ds = ds.assign_coords(image_path=("stimulus", copies))
    ds.attrs.update(
        dataset=name,
        source_dataset=ds.attrs["dataset"],
        source_netcdf=str(path),
        source_netcdf_sha256=sha256_file(path),
    )
    return validate_dataset(ds, str(path))
