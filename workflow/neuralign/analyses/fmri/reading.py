"""Reading the fMRI experiment's artifacts: sampled units, fits, and the GOD stimuli of all
subjects."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from neuralign.io.artifacts import open_netcdf
from neuralign.io.dataset import open_dataset, stimulus_images


def read_units(path: str | Path) -> tuple[np.ndarray, dict[str, np.ndarray], dict]:
    """Stimulus ids, layer → (stimulus, unit) arrays and attrs of a sampled-units artifact
    (as ``neuralign.activations.extraction.read_activations``, without loading the model
    libraries)."""
    ds = open_netcdf(path)
    layers = np.atleast_1d(ds.attrs["layers"]).tolist()
    units = {layer: ds[layer].values.reshape(ds.sizes["stimulus"], -1) for layer in layers}
    return ds["stimulus_id"].values, units, dict(ds.attrs)


def load_fits(paths: Sequence[str | Path]) -> list[xr.Dataset]:
    """Open fit files (loaded into memory)."""
    return [open_netcdf(path) for path in paths]


def god_stimuli(dataset_paths: Sequence[str]) -> tuple[list[str], list[str]]:
    """Stimulus ids and image files of the union of the datasets' stimuli, sorted by id (the
    subjects saw the same images; each is extracted once)."""
    images = {}
    for dataset_path in dataset_paths:
        ds = open_dataset(dataset_path)
        paths = stimulus_images(ds, dataset_path)
        for stimulus, path in zip(ds["stimulus_id"].values, paths, strict=True):
            images.setdefault(str(stimulus), path)
    ids = sorted(images)
    return ids, [images[stimulus] for stimulus in ids]
