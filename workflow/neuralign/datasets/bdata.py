"""bdpy's "BData" HDF5 files (KamitaniLab/bdpy ``bdpy/bdata/bdata.py``, ``__save_h5``/
``__load_h5``): read (``read_bdata``) and written (``write_bdata``) as bdpy does. ``/dataset`` is
a (samples, columns) float array; ``/metadata/key``, ``/metadata/description`` and
``/metadata/value``, a (keys, columns) float array, describe the columns. Older bdpy files spell
the groups ``dataSet``/``metaData``; both are read."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from neuralign.io.dataset import DatasetError


@dataclass(frozen=True)
class BData:
    """A BData file: the (samples, columns) array and its metadata rows by key."""

    dataset: np.ndarray
    metadata: dict[str, np.ndarray]
    path: Path
    attrs: dict = field(default_factory=dict)  # the file's root attributes

    @property
    def simulated(self) -> bool:
        """Whether the file marks itself SIMULATED (root attribute ``simulated``)."""
        return bool(self.attrs.get("simulated", 0))

    def mask(self, key: str) -> np.ndarray:
        """Columns flagged by ``key`` (value 1)."""
        if key not in self.metadata:
            raise DatasetError(
                f"{self.path}: metadata key {key!r} is missing "
                f"(found {sorted(self.metadata)[:20]}...)"
            )
        return self.metadata[key] == 1

    def column(self, key: str) -> np.ndarray:
        """The one dataset column flagged by ``key``."""
        columns = np.flatnonzero(self.mask(key))
        if len(columns) != 1:
            raise DatasetError(f"{self.path}: key {key!r} flags {len(columns)} columns, not 1")
        return self.dataset[:, columns[0]]


def read_bdata(path: Path) -> BData:
    """Read a bdpy HDF5 file; DatasetError naming ``path`` if it does not follow the layout."""
    try:
        with h5py.File(path, "r") as h5:
            dataset = member(h5, ("dataset", "dataSet"), path)
            group = member(h5, ("metadata", "metaData"), path)
            parts = {name: member(group, (name,), path) for name in ("key", "value")}
            array = np.asarray(dataset[()], dtype=float)
            keys = [k.decode() if isinstance(k, bytes) else str(k) for k in parts["key"][()]]
            values = np.asarray(parts["value"][()], dtype=float)
            attrs = {
                name: value.decode() if isinstance(value, bytes) else value
                for name, value in h5.attrs.items()
            }
    except OSError as err:
        raise DatasetError(f"{path}: cannot be read as HDF5 ({err})") from err
    if array.ndim != 2 or values.shape != (len(keys), array.shape[1]):
        raise DatasetError(
            f"{path}: dataset has shape {array.shape} and metadata/value {values.shape} for "
            f"{len(keys)} keys; expected (samples, columns) and (keys, columns)"
        )
    return BData(array, dict(zip(keys, values, strict=True)), path, attrs)


def member(group: h5py.Group, names: tuple[str, ...], path: Path):
    for name in names:
        if name in group:
            return group[name]
    raise DatasetError(f"{path}: '{group.name}' has no {' or '.join(map(repr, names))}")


def write_bdata(
    path: str | os.PathLike,
    dataset: np.ndarray,
    metadata: Mapping[str, np.ndarray],
    *,
    descriptions: Mapping[str, str] | None = None,
    attrs: Mapping[str, object] | None = None,
    camel: bool = False,
) -> Path:
    """Write a BData HDF5 file as bdpy saves it (``/dataset``, ``/metadata/{key,description,
    value}``, ``/header``, ``/vmap``; ``camel``: the older ``dataSet``/``metaData`` names).
    ``descriptions`` default to '1 = <key>'; ``attrs`` become attributes of the file's root
    (``simulated`` there marks a SIMULATED file, which ``convert_god`` passes on). Writing the
    same arrays twice gives identical bytes (no time stamps)."""
    path = Path(path)
    descriptions = descriptions or {}
    data_name, meta_name = ("dataSet", "metaData") if camel else ("dataset", "metadata")
    with h5py.File(path, "w") as h5:
        h5.create_dataset(data_name, data=np.asarray(dataset, dtype=float))
        h5.create_group(meta_name)
        h5.create_dataset(f"{meta_name}/key", data=[key.encode() for key in metadata])
        h5.create_dataset(
            f"{meta_name}/description",
            data=[descriptions.get(key, f"1 = {key}").encode() for key in metadata],
        )
        h5.create_dataset(f"{meta_name}/value", data=np.vstack(list(metadata.values())))
        h5.create_group("header")
        h5.create_group("vmap")
        h5.attrs.update(dict(attrs or {}))
    return path
