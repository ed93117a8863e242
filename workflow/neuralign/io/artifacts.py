"""Reading and writing the workflow's artifacts.

Reading: ``open_netcdf`` and ``read_table`` are the readers of intermediate files (datasets,
activations, ceilings, fits, maps, tables); a file that cannot be read raises ``ArtifactError``
naming it, saying what it could not be read as and how to recompute it.

Writing: ``write_netcdf``, ``write_csv``, ``save_figure`` and ``save_torch`` write through
``neuralign.io.atomic`` (unique temporary file, fsync, rename) and stamp the job's provenance
(``neuralign.io.provenance``) into the file: netCDF global attributes, CSV columns (one value per
row: a table copied elsewhere keeps them, and Snakemake manages one file per output, not a
sidecar that could fall out of step), PNG text chunks and the PDF ``Keywords`` entry (JSON), a
checkpoint's ``provenance`` key. ``read_provenance`` reads it back from any of them.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

import neuralign
from neuralign.io.atomic import atomic_path

# stamped on every artifact; ``IDS`` only where the artifact does not name its own
KEYS = ("rule", "neuralign_version", "git_describe", "config_sha256", "simulated")
IDS = ("dataset", "model")
# read as text: a git hash of digits only ('7533710', '0123abc') must not become a number
TEXT = {key: str for key in (*KEYS, *IDS) if key != "simulated"}
PDF_KEY = "Keywords"  # the PDF Info entry holding the provenance, as JSON
KINDS = {
    ".nc": "netCDF",
    ".csv": "CSV",
    ".h5": "HDF5",
    ".png": "PNG",
    ".pdf": "PDF",
    ".pt": "a PyTorch checkpoint",
}


class ArtifactError(ValueError):
    """An artifact is missing or cannot be read."""


def unreadable(path: str | os.PathLike, kind: str, err: BaseException) -> ArtifactError:
    """The error for a file that cannot be read as ``kind``: what failed and how to recover."""
    return ArtifactError(
        f"{path}: cannot be read as {kind} ({type(err).__name__}: {err}). It is damaged or "
        "incomplete: delete it and rerun snakemake to recompute it (or rerun with "
        f"`--forcerun {path}`); if you provided it yourself, replace it."
    )


def _existing(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"{path}: file does not exist")
    return path


def open_netcdf(path: str | os.PathLike) -> xr.Dataset:
    """A netCDF artifact, loaded into memory (so a damaged data region fails here, too)."""
    path = _existing(path)
    try:
        with xr.open_dataset(path, engine="netcdf4") as ds:
            return ds.load()
    except Exception as err:
        raise unreadable(path, "netCDF", err) from err


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """A CSV table artifact (its provenance columns as text)."""
    path = _existing(path)
    try:
        return pd.read_csv(path, dtype=TEXT)
    except Exception as err:
        raise unreadable(path, "CSV", err) from err


def stamped(attrs: Mapping, provenance: Mapping | None) -> dict:
    """``attrs`` with the provenance: its ``KEYS`` replace, its ``IDS`` fill in what
    ``attrs`` lacks, ``simulated`` is 1 if either says so."""
    provenance = provenance or {}
    out = {**{k: v for k, v in provenance.items() if k in IDS}, **attrs}
    out.update({k: v for k, v in provenance.items() if k not in IDS})
    out["simulated"] = int(bool(attrs.get("simulated", 0)) or bool(provenance.get("simulated")))
    return out


def write_netcdf(
    ds: xr.Dataset, path: str | os.PathLike, provenance: Mapping | None = None
) -> None:
    """Write ``ds`` (attrs stamped with ``provenance``, if given) to ``path`` atomically."""
    if provenance:
        ds = ds.copy()
        ds.attrs = stamped(ds.attrs, provenance)
    with atomic_path(path) as temp:
        ds.to_netcdf(temp, engine="netcdf4")


def write_csv(
    table: pd.DataFrame, path: str | os.PathLike, provenance: Mapping | None = None
) -> None:
    """Write ``table`` with the provenance as columns (``stamped`` per row) atomically."""
    table = table.copy()
    for key, value in (provenance or {}).items():
        if key == "simulated":
            own = table[key].astype(int) if key in table else 0
            table[key] = np.maximum(own, int(value))
        elif key not in IDS or key not in table:
            table[key] = value
    with atomic_path(path) as temp:
        table.to_csv(temp, index=False)


def save_figure(
    figure, paths: Iterable[str | os.PathLike], provenance: Mapping | None = None, **kwargs
) -> None:
    """Save ``figure`` to each path (format from its suffix) atomically with the provenance in
    its metadata, then close it; ``kwargs`` go to ``savefig`` (e.g. ``dpi``)."""
    import matplotlib.pyplot as plt

    provenance = dict(provenance or {})
    software = f"neuralign {neuralign.__version__}"
    for path in map(Path, paths):
        kind = path.suffix.lstrip(".").lower()
        if kind == "pdf":
            metadata = {"Creator": software, PDF_KEY: json.dumps(provenance, sort_keys=True)}
        else:
            metadata = {"Software": software, **{k: str(v) for k, v in provenance.items()}}
        with atomic_path(path) as temp:
            figure.savefig(temp, format=kind, metadata=metadata, **kwargs)
    plt.close(figure)


def save_torch(obj, path: str | os.PathLike) -> None:
    """``torch.save`` ``obj`` to ``path`` atomically."""
    import torch

    with atomic_path(path) as temp:
        torch.save(obj, temp)


def read_provenance(path: str | os.PathLike) -> dict:
    """The provenance stored in an artifact (netCDF, CSV, HDF5, PNG, PDF, checkpoint): the
    ``KEYS`` and ``IDS`` it holds, ``simulated`` as 0 or 1 (0 when it says nothing)."""
    path = _existing(path)
    if path.suffix not in KINDS:
        raise ArtifactError(f"{path}: no provenance reader for '{path.suffix}' files")
    try:
        found = _PROVENANCE_READERS[path.suffix](path)
    except Exception as err:
        raise unreadable(path, KINDS[path.suffix], err) from err
    found = {key: found[key] for key in (*KEYS, *IDS) if key in found}
    found["simulated"] = int(found.get("simulated", 0))
    return found


def _netcdf_attrs(path: Path) -> dict:
    import netCDF4

    with netCDF4.Dataset(path) as nc:
        return {key: nc.getncattr(key) for key in nc.ncattrs()}


def _csv_columns(path: Path) -> dict:
    table = pd.read_csv(path, dtype=TEXT)
    found = {key: table[key].iloc[0] for key in (*KEYS, *IDS) if key in table and len(table)}
    if "simulated" in table and len(table):
        found["simulated"] = int(table["simulated"].max())
    return found


def _hdf5_attrs(path: Path) -> dict:
    import h5py

    with h5py.File(path, "r") as h5:
        return {k: v.decode() if isinstance(v, bytes) else v for k, v in h5.attrs.items()}


def _png_text(path: Path) -> dict:
    from PIL import Image

    with Image.open(path) as image:
        return dict(image.text)


def _pdf_keywords(path: Path) -> dict:
    match = re.search(rb"/" + PDF_KEY.encode() + rb" \(((?:\\.|[^\\)])*)\)", path.read_bytes())
    if match is None:
        return {}
    escapes = {b"n": b"\n", b"r": b"\r"}
    text = re.sub(rb"\\(.)", lambda m: escapes.get(m[1], m[1]), match[1], flags=re.DOTALL)
    return json.loads(text.decode("latin-1"))


def _checkpoint_entry(path: Path) -> dict:
    import torch

    checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    return dict(checkpoint.get("provenance", {})) if isinstance(checkpoint, dict) else {}


_PROVENANCE_READERS = {
    ".nc": _netcdf_attrs,
    ".csv": _csv_columns,
    ".h5": _hdf5_attrs,
    ".png": _png_text,
    ".pdf": _pdf_keywords,
    ".pt": _checkpoint_entry,
}
