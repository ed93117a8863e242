"""Layer activations of a model on a stimulus set, reduced to fixed-size feature vectors.

Each requested layer is read with a forward hook. Convolutional outputs (N, C, H, W) are
average-pooled to a ``pool_grid`` × ``pool_grid`` grid and flattened (C·g² features); token
outputs (N, T, C) are averaged over tokens; vectors (N, C) are kept as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import timm
import torch
import xarray as xr
from PIL import Image
from torch.utils.data import DataLoader, Dataset

import neuralign
from neuralign.models import LoadedModel, check_layers


class ImageFiles(Dataset):
    """Images from files, preprocessed by a timm transform."""

    def __init__(self, paths: Sequence[str], transform):
        self.paths, self.transform = list(paths), transform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> torch.Tensor:
        with Image.open(self.paths[index]) as image:
            return self.transform(image.convert("RGB"))


def reduce_output(output: torch.Tensor, pool_grid: int) -> torch.Tensor:
    """Flatten one layer's batch output to (N, features)."""
    if isinstance(output, (tuple, list)):
        output = output[0]
    if output.ndim == 4:
        output = torch.nn.functional.adaptive_avg_pool2d(output, pool_grid)
    elif output.ndim == 3:
        output = output.mean(dim=1)
    return output.flatten(1)


@torch.inference_mode()
def extract(
    model: LoadedModel,
    image_paths: Sequence[str],
    layers: Sequence[str],
    *,
    pool_grid: int = 3,
    batch_size: int = 32,
    num_workers: int = 0,
    device: str = "cpu",
) -> dict[str, np.ndarray]:
    """Features (stimulus, feature) per layer, in the order of ``image_paths``."""
    check_layers(model.module, list(layers), type(model.module).__name__)
    module = model.module.to(device).eval()
    transform = timm.data.create_transform(**model.data_config, is_training=False)
    loader = DataLoader(
        ImageFiles(image_paths, transform),
        batch_size=batch_size,
        num_workers=num_workers,
        pin_memory=device.startswith("cuda"),
    )
    captured: dict[str, torch.Tensor] = {}
    modules = dict(module.named_modules())
    hooks = [
        modules[layer].register_forward_hook(
            lambda _m, _i, out, layer=layer: captured.__setitem__(
                layer, reduce_output(out, pool_grid)
            )
        )
        for layer in layers
    ]
    chunks: dict[str, list[np.ndarray]] = {layer: [] for layer in layers}
    try:
        for batch in loader:
            module(batch.to(device, non_blocking=True))
            for layer in layers:
                chunks[layer].append(captured[layer].float().cpu().numpy())
    finally:
        for hook in hooks:
            hook.remove()
    return {layer: np.concatenate(chunks[layer]) for layer in layers}


def activations_dataset(
    features: dict[str, np.ndarray],
    stimulus_ids: Sequence[str],
    attrs: dict,
) -> xr.Dataset:
    """Package per-layer features as the activations artifact (one variable per layer)."""
    data_vars = {
        layer: (("stimulus", f"{layer}_feature"), values.astype(np.float32))
        for layer, values in features.items()
    }
    ds = xr.Dataset(data_vars, coords={"stimulus_id": ("stimulus", list(stimulus_ids))})
    ds.attrs.update(attrs, layers=list(features), neuralign_version=neuralign.__version__)
    return ds


def read_activations(path) -> dict[str, np.ndarray]:
    """Layer → (stimulus, feature) arrays from an activations artifact, in stored order."""
    with xr.open_dataset(path) as ds:
        return {layer: ds[layer].values for layer in ds.attrs["layers"]}
