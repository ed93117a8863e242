"""The geometry of map datasets: the model's field of view, the grid of positions, sampling a
layer's feature maps at those positions, and the neuroids' arrays."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr


def field_degrees(image_degrees: float, y: np.ndarray, x: np.ndarray, step: float) -> float:
    """Field of view (degrees) centred on the image that holds the image and every grid
    position with half a step to spare."""
    extent = 2 * max(np.abs(y).max(), np.abs(x).max()) + step
    return float(max(image_degrees, extent))


def grid_step(values: np.ndarray) -> float:
    """The spacing of a regular grid coordinate (degrees)."""
    values = np.asarray(values, dtype=np.float64)
    return float(np.diff(values).mean()) if len(values) > 1 else 1.0


def grid_field(image_degrees: float, grid: int, step_degrees: float) -> float:
    """``field_degrees`` of a centred ``grid`` × ``grid`` grid ``step_degrees`` apart."""
    positions = (np.arange(grid) - (grid - 1) / 2) * step_degrees
    return field_degrees(image_degrees, positions, positions, step_degrees)


def sample_at_positions(
    features: np.ndarray, y: np.ndarray, x: np.ndarray, field: float
) -> np.ndarray:
    """Bilinear samples (n, C, len(y), len(x)) of feature maps (n, C, h, w) that span a
    ``field``-degree view, at positions ``y``/``x`` (degrees from the centre; pixel centres at
    (i + ½)/h of the view, borders clamped)."""
    import torch  # here only: the Snakefile and the reporting jobs read the grid arithmetic

    maps = torch.as_tensor(np.asarray(features), dtype=torch.float64)
    gy, gx = torch.meshgrid(
        torch.as_tensor(2 * np.asarray(y) / field),
        torch.as_tensor(2 * np.asarray(x) / field),
        indexing="ij",
    )
    grid = torch.stack([gx, gy], dim=-1)[None].expand(len(maps), -1, -1, -1)
    sampled = torch.nn.functional.grid_sample(
        maps, grid.to(maps.dtype), mode="bilinear", padding_mode="border", align_corners=False
    )
    return sampled.numpy()


def design(
    features: np.ndarray, maps: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Samples of all images: x (sample, C), y (sample, neuroid), the image of each sample and
    the flat position index of each sample. Positions where any neuroid's map is NaN (not
    shown) are left out."""
    n_images, n_channels = features.shape[:2]
    x = features.reshape(n_images, n_channels, -1).transpose(0, 2, 1)
    y = maps.reshape(n_images, maps.shape[1], -1).transpose(0, 2, 1)
    keep = np.isfinite(y).all(axis=2)
    image, position = np.nonzero(keep)
    return x[keep], y[keep], image, position


def spatial_layers(activations: xr.Dataset, layers: Sequence[str]) -> tuple[list, list]:
    """The layers whose stored features keep (channel, y, x), and the others."""
    spatial = [layer for layer in layers if activations[layer].ndim == 4]
    return spatial, [layer for layer in layers if layer not in spatial]


def neuroid_arrays(ds: xr.Dataset) -> np.ndarray:
    """The electrode array of each neuroid ("all" when the dataset names none)."""
    if "array" in ds.coords:
        return ds["array"].values.astype(str)
    return np.array(["all"] * ds.sizes["neuroid"])
