"""Reading activations artifacts (written by ``neuralign.activations.extraction``): the layers
in order, each as a (stimulus, feature) array. Light to import: fits read activations without
loading torch or timm."""

from __future__ import annotations

import os

import numpy as np
import xarray as xr

from neuralign.io.artifacts import open_netcdf


def layer_names(ds: xr.Dataset) -> list[str]:
    """The layers of an activations artifact, in order (netCDF stores one name as a string)."""
    return np.atleast_1d(ds.attrs["layers"]).tolist()


def layer_arrays(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """Layer → (stimulus, feature) arrays of an activations artifact, flattened, in order."""
    n = ds.sizes["stimulus"]
    return {layer: ds[layer].values.reshape(n, -1) for layer in layer_names(ds)}


def read_activations(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """``layer_arrays`` of the activations artifact at ``path``."""
    return layer_arrays(open_netcdf(path))
