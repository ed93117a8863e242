"""Feature importance of a fitted map readout, compared with IT maps.

The readout of neuroid n is the one ``neuralign.analyses.maps.predictivity`` fits: a layer's
output, average-pooled to the stored feature grid, sampled bilinearly at the grid positions,
mapped linearly to the neuroid; its scalar is the mean prediction over the grid positions (the
predicted map's mean).
Two attributions of that scalar with respect to the model's input image:

- ``saliency``: |∂ readout / ∂ input|, the maximum over the colour channels (Simonyan et al.
  2014);
- ``gradient_input``: |Σ_c ∂ readout / ∂ input_c · input_c| on the normalised input (whose grey
  surround is near zero), summed over colour channels.

Each is projected onto the neural grid by averaging the pixels whose centres fall in the
``step`` × ``step`` cell around each grid position (``project_to_grid``) and compared with the
IT map by Spearman's rank correlation over positions, at full resolution and at quarter
resolution (both maps averaged over 2 × 2 blocks of grid positions, the last block partial
when the grid is odd).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import torch
import xarray as xr
from PIL import Image
from scipy.stats import rankdata

from neuralign.analyses.maps.ceilings import per_array
from neuralign.analyses.maps.geometry import neuroid_arrays
from neuralign.fitting.metrics import pearson_columns

METHODS = ("saliency", "gradient_input")


def readout_attributions(
    module: torch.nn.Module,
    layer: str,
    image: torch.Tensor,
    coef: np.ndarray,
    x_mean: np.ndarray,
    y_deg: np.ndarray,
    x_deg: np.ndarray,
    field: float,
    feature_grid: int | None = None,
    chunk: int = 16,
) -> dict[str, np.ndarray]:
    """Attribution maps (neuroid, H, W) of every neuroid's readout for one preprocessed image
    (3, H, W) on the device of ``module``. ``coef`` (C, neuroid) and ``x_mean`` (C,) are the
    fitted linear readout of ``layer``'s features; ``feature_grid`` the average-pooling grid
    the features were stored at (None: the layer's own resolution)."""
    modules = dict(module.named_modules())
    if layer not in modules:
        raise ValueError(f"layer {layer!r} is not a module of {type(module).__name__}")
    device = image.device
    grid = _position_grid(y_deg, x_deg, field).to(device)
    coef_t = torch.as_tensor(coef, dtype=torch.float32, device=device)
    mean_t = torch.as_tensor(x_mean, dtype=torch.float32, device=device)
    out = {method: [] for method in METHODS}
    captured = {}
    hook = modules[layer].register_forward_hook(
        lambda _m, _i, output: captured.__setitem__("out", output)
    )
    try:
        for start in range(0, coef_t.shape[1], chunk):
            weights = coef_t[:, start : start + chunk]  # (C, k)
            batch = image[None].repeat(weights.shape[1], 1, 1, 1).requires_grad_(True)
            with torch.enable_grad():
                module(batch)
                features = captured.pop("out")
                features = features[0] if isinstance(features, (tuple, list)) else features
                if features.ndim != 4:
                    raise ValueError(f"layer {layer!r} has no spatial (N, C, H, W) output")
                if feature_grid:
                    features = torch.nn.functional.adaptive_avg_pool2d(features, feature_grid)
                sampled = torch.nn.functional.grid_sample(
                    features,
                    grid.expand(len(batch), -1, -1, -1).to(features.dtype),
                    mode="bilinear",
                    padding_mode="border",
                    align_corners=False,
                )  # (k, C, gy, gx)
                centred = sampled.mean(dim=(2, 3)) - mean_t  # the readout is linear: mean first
                readout = (centred * weights.T).sum()
                (grad,) = torch.autograd.grad(readout, batch)
            out["saliency"].append(grad.abs().amax(dim=1).cpu().numpy())
            out["gradient_input"].append((grad * batch.detach()).sum(dim=1).abs().cpu().numpy())
    finally:
        hook.remove()
    return {method: np.concatenate(values) for method, values in out.items()}


def _position_grid(y_deg: np.ndarray, x_deg: np.ndarray, field: float) -> torch.Tensor:
    """(1, gy, gx, 2) normalised sampling grid of ``grid_sample`` (x first)."""
    gy, gx = torch.meshgrid(
        torch.as_tensor(2 * np.asarray(y_deg, dtype=np.float64) / field),
        torch.as_tensor(2 * np.asarray(x_deg, dtype=np.float64) / field),
        indexing="ij",
    )
    return torch.stack([gx, gy], dim=-1)[None].float()


def project_to_grid(
    maps: np.ndarray, y_deg: np.ndarray, x_deg: np.ndarray, field: float, step: float
) -> np.ndarray:
    """Average of (…, H, W) pixel maps spanning a ``field``-degree view over the
    ``step``-degree square cell around each grid position → (…, len(y), len(x))."""
    height, width = maps.shape[-2:]

    def membership(positions, n):
        centres = ((np.arange(n) + 0.5) / n - 0.5) * field
        inside = np.abs(centres[None, :] - np.asarray(positions)[:, None]) <= step / 2
        counts = inside.sum(axis=1, keepdims=True)
        if (counts == 0).any():
            raise ValueError(f"a grid cell of {step} deg holds no pixel of a {n}-pixel view")
        return inside / counts

    rows, cols = membership(y_deg, height), membership(x_deg, width)
    return np.einsum("yh,...hw,xw->...yx", rows, maps, cols)


def block_average(maps: np.ndarray, block: int = 2) -> np.ndarray:
    """(…, y, x) maps averaged over ``block`` × ``block`` cells (the last partial), NaNs
    ignored."""
    for axis in (-2, -1):
        n = maps.shape[axis]
        starts = np.arange(0, n, block)
        maps = np.stack(
            [
                np.nanmean(np.take(maps, range(s, min(s + block, n)), axis=axis), axis=axis)
                for s in starts
            ],
            axis=axis,
        )
    return maps


def spearman_maps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman's rho between matching (…, y, x) maps over positions finite in both (ties
    get average ranks)."""
    a = np.asarray(a, dtype=np.float64).reshape(*a.shape[:-2], -1)
    b = np.asarray(b, dtype=np.float64).reshape(*b.shape[:-2], -1)
    a, b = np.broadcast_arrays(a, b)
    out = np.empty(a.shape[:-1])
    for index in np.ndindex(out.shape):
        valid = np.isfinite(a[index]) & np.isfinite(b[index])
        out[index] = pearson_columns(rankdata(a[index][valid]), rankdata(b[index][valid]))
    return out


def attribution_scores(
    attributions: np.ndarray, it_maps: np.ndarray, y, x, field: float, step: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Attribution maps (neuroid, H, W) of one image projected on the grid, and their Spearman
    rho with the IT maps (neuroid, y, x) at full and at quarter resolution."""
    projected = project_to_grid(attributions, y, x, field, step)
    full = spearman_maps(projected, it_maps)
    quarter = spearman_maps(block_average(projected), block_average(it_maps))
    return projected, full, quarter


def dataset_attributions(
    ds: xr.Dataset,
    image_root: str | os.PathLike,
    module: torch.nn.Module,
    transform: Callable,
    readouts: list,
    layers: list[str],
    geometry: tuple[float, float, int],
    device: str = "cpu",
    log: Callable[[str], None] = print,
) -> xr.Dataset:
    """Attributions of each image's readout (fitted without that image, on ``layers[k]``),
    projected on the grid and compared with the IT maps; summary per array.

    ``readouts[k]`` has ``coef`` and ``x_mean``; ``geometry`` is (field of view, grid step,
    stored feature grid); ``transform`` turns an image file into the model's input."""
    field, step, feature_grid = geometry
    y, x = ds["y"].values, ds["x"].values
    n_images, n_neuroids = ds.sizes["stimulus"], ds.sizes["neuroid"]
    projected = np.empty((len(METHODS), n_images, n_neuroids, len(y), len(x)), np.float32)
    rho = np.empty((len(METHODS), 2, n_images, n_neuroids))
    for k, path in enumerate(ds["image_path"].values):
        with Image.open(os.path.join(image_root, path)) as image:
            tensor = transform(image.convert("RGB")).to(device)
        maps = readout_attributions(
            module,
            layers[k],
            tensor,
            readouts[k].coef,
            readouts[k].x_mean,
            y,
            x,
            field,
            feature_grid,
        )
        for m, method in enumerate(METHODS):
            projected[m, k], rho[m, 0, k], rho[m, 1, k] = attribution_scores(
                maps[method], ds["maps"].values[k], y, x, field, step
            )
        log(f"attributions of image {k + 1}/{n_images} done")
    arrays = neuroid_arrays(ds)
    summary = [[per_array(rho[m, res], arrays) for res in range(2)] for m in range(len(METHODS))]
    return xr.Dataset(
        {
            "attribution_maps": (("method", "stimulus", "neuroid", "y", "x"), projected),
            "attribution_spearman": (("method", "resolution", "stimulus", "neuroid"), rho),
            "attribution_summary": (("method", "resolution", "array"), np.array(summary)),
        },
        coords={"method": list(METHODS), "resolution": ["full", "quarter"]},
    )
