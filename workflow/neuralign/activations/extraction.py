"""Layer activations of a model on a stimulus set, reduced and written batch by batch.

Each requested layer is read with a forward hook and reduced by one of:

- ``pool``: convolutional maps (N, C, H, W) average-pooled to a ``grid`` × ``grid`` grid, then
  flattened (C·g² features); token outputs (N, T, C) averaged over tokens; vectors kept;
- ``spatial``: maps average-pooled to the grid but kept as (C, y, x), for stages that need maps;
- ``full``: the whole output, flattened;
- ``srp``: a seeded sparse random projection of the flattened output to ``components``
  dimensions (Li, Hastie & Church 2006: density 1/√d, entries ±√(1/(density·k)));
- ``pca``: the flattened output projected on its first ``components`` principal components,
  fitted on a separate image set;
- ``sample``: a seeded subset of ``units`` entries of the flattened output (``sample_units``;
  the same seed for every layer), in increasing index order; the flat indices are written as
  the ``<layer>_feature`` coordinate and the output shape as its ``layer_shape`` attribute, so
  early layers' huge maps are never written whole. Hooks read module outputs, so a convolution
  followed by an in-place ReLU gives pre-activation values.

Features go to the netCDF file as each batch is computed, so memory does not grow with the
number of stimuli.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence

import netCDF4
import numpy as np
import timm
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from neuralign.io.atomic import AtomicFile
from neuralign.models.layers import check_layers
from neuralign.models.loading import LoadedModel

REDUCTIONS = ("pool", "spatial", "full", "srp", "pca", "sample")
AUTOCAST_DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}


def sample_units(n_features: int, n_units: int, seed: int) -> np.ndarray:
    """Seeded choice of ``n_units`` feature indices (all of them, in order, if fewer exist)."""
    if n_units >= n_features:
        return np.arange(n_features)
    return np.sort(np.random.default_rng(seed).choice(n_features, n_units, replace=False))


class ImageFiles(Dataset):
    """Images from files, preprocessed by a transform."""

    def __init__(self, paths: Sequence[str], transform):
        self.paths, self.transform = list(paths), transform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> torch.Tensor:
        with Image.open(self.paths[index]) as image:
            return self.transform(image.convert("RGB"))


class Reducer:
    """Turns one layer's batch output into (N, …) features with named trailing dims."""

    def __init__(
        self,
        layer: str,
        method: str = "pool",
        grid: int = 3,
        components: int = 1000,
        seed: int = 0,
        units: int = 1000,
    ):
        if method not in REDUCTIONS:
            raise ValueError(f"unknown reduction {method!r}; valid: {', '.join(REDUCTIONS)}")
        self.layer, self.method, self.grid = layer, method, grid
        self.components, self.seed, self.units = components, seed, units
        self._projection: torch.Tensor | None = None
        self._mean: torch.Tensor | None = None
        self.unit_index: np.ndarray | None = None  # ``sample``: flat indices kept
        self.layer_shape: tuple[int, ...] | None = None  # ``sample``: output shape per image

    def __call__(self, output: torch.Tensor) -> torch.Tensor:
        if isinstance(output, (tuple, list)):
            output = output[0]
        if self.method in ("pool", "spatial") and output.ndim == 4:
            output = torch.nn.functional.adaptive_avg_pool2d(output, self.grid)
            return output if self.method == "spatial" else output.flatten(1)
        if self.method == "pool" and output.ndim == 3:
            return output.mean(dim=1)
        if self.method == "srp":
            return self._project(output.flatten(1))
        if self.method == "sample":
            return self._sample(output)
        if self.method == "pca":
            if self._projection is None:
                raise RuntimeError(f"PCA of layer {self.layer} is not fitted (fit_pca first)")
            return (output.flatten(1).float() - self._mean) @ self._projection
        # a copy: a later in-place op (ReLU(inplace=True)) would otherwise change the values
        return output.flatten(1).clone()

    def fit_pca(self, flat: torch.Tensor) -> None:
        """Fit the PCA projection (features × components) on (images, features) outputs."""
        self._mean = flat.mean(0)
        _, _, vh = torch.linalg.svd(flat - self._mean, full_matrices=False)
        self._projection = vh[: self.components].T.contiguous()

    def dims(self, features: torch.Tensor) -> tuple[str, ...]:
        """Dimension names of the reduced features after ``stimulus``."""
        if features.ndim == 4:
            return tuple(f"{self.layer}_{name}" for name in ("channel", "y", "x"))
        return (f"{self.layer}_feature",)

    def _project(self, flat: torch.Tensor) -> torch.Tensor:
        if self._projection is None:
            self._projection = sparse_random_projection(
                flat.shape[1], self.components, self.seed
            ).to(flat.device)
        return torch.sparse.mm(self._projection, flat.float().T).T

    def _sample(self, output: torch.Tensor) -> torch.Tensor:
        flat = output.flatten(1)
        if self.unit_index is None:
            self.layer_shape = tuple(output.shape[1:])
            self.unit_index = sample_units(flat.shape[1], self.units, self.seed)
        index = torch.as_tensor(self.unit_index, device=flat.device)
        return flat.index_select(1, index)

    def describe(self) -> str:
        if self.method == "sample":
            return f"{self.units} units sampled from the flattened output (seed {self.seed})"
        if self.method == "srp":
            return f"sparse random projection to {self.components} dims (seed {self.seed})"
        if self.method == "pca":
            return f"PCA to {self._projection.shape[1]} components, fitted on a separate image set"
        if self.method in ("pool", "spatial"):
            return f"{self.method}: average pooling to {self.grid}x{self.grid}"
        return "full output, flattened"


def sparse_random_projection(n_features: int, n_components: int, seed: int) -> torch.Tensor:
    """A (n_components, n_features) sparse ±√(1/(density·k)) matrix with density 1/√d."""
    density = 1 / np.sqrt(n_features)
    rng = np.random.default_rng(seed)
    nnz = rng.binomial(n_features * n_components, density)
    flat = rng.choice(n_features * n_components, size=nnz, replace=False)
    rows, cols = np.divmod(flat, n_features)
    values = rng.choice([-1.0, 1.0], size=nnz) / np.sqrt(density * n_components)
    indices = torch.as_tensor(np.stack([rows, cols]))
    return torch.sparse_coo_tensor(
        indices,
        torch.as_tensor(values, dtype=torch.float32),
        (n_components, n_features),
        check_invariants=True,
    ).coalesce()


class ActivationWriter:
    """Writes per-layer features into a netCDF file batch by batch, through a unique temporary
    file (``neuralign.io.atomic``) renamed into place on close."""

    def __init__(self, path: str | os.PathLike, stimulus_ids: Sequence[str], attrs: dict):
        self.file = AtomicFile(path)
        self.nc = netCDF4.Dataset(self.file.temp, "w")
        self.nc.createDimension("stimulus", len(stimulus_ids))
        ids = self.nc.createVariable("stimulus_id", str, ("stimulus",))
        ids[:] = np.asarray(stimulus_ids, dtype=object)
        for key, value in attrs.items():
            if isinstance(value, (list, tuple)):
                self.nc.setncattr_string(key, [str(v) for v in value])
            else:
                self.nc.setncattr(key, value)

    def write(self, layer: str, dims: tuple[str, ...], start: int, values: np.ndarray) -> None:
        if layer not in self.nc.variables:
            for dim, size in zip(dims, values.shape[1:], strict=True):
                self.nc.createDimension(dim, size)
            variable = self.nc.createVariable(layer, "f4", ("stimulus", *dims), zlib=False)
            variable.setncattr("coordinates", "stimulus_id")
        self.nc.variables[layer][start : start + len(values)] = values

    def close(self) -> None:
        self.nc.close()
        self.file.commit()

    def write_index(self, dim: str, values: np.ndarray, attrs: dict) -> None:
        """Write the coordinate variable of feature dimension ``dim`` (e.g. sampled units)."""
        variable = self.nc.createVariable(dim, "i8", (dim,))
        variable[:] = values
        for key, value in attrs.items():
            variable.setncattr(key, value)

    def abort(self) -> None:
        self.nc.close()
        self.file.discard()


RUN_OPTIONS = ("batch_size", "num_workers", "device", "channels_last", "autocast")


def run_options(activations: dict) -> dict:
    """The data-path keywords of ``extract_to_file`` from the config's ``activations`` block."""
    return {key: activations[key] for key in RUN_OPTIONS}


@torch.inference_mode()
def extract_to_file(
    model: LoadedModel,
    image_paths: Sequence[str],
    stimulus_ids: Sequence[str],
    layers: Sequence[str],
    out_path: str | os.PathLike,
    attrs: dict,
    *,
    transform=None,
    reduction: dict | None = None,
    pca_images: Sequence[str] = (),
    batch_size: int = 32,
    num_workers: int = 0,
    device: str = "cpu",
    channels_last: bool = False,
    autocast: str | None = None,
    progress: bool = False,
) -> None:
    """Run the model over the images and write the reduced layer outputs to ``out_path``.

    With the ``pca`` reduction, the projection of each layer is first fitted on the outputs for
    ``pca_images`` (a separate image set, as Brain-Score does with ImageNet images).
    """
    check_layers(model.module, list(layers), type(model.module).__name__)
    module = model.module.to(device).eval()
    if channels_last:
        module = module.to(memory_format=torch.channels_last)
    transform = transform or timm.data.create_transform(**model.data_config, is_training=False)
    reducers = {layer: Reducer(layer, **(reduction or {})) for layer in layers}
    run = _Runner(
        module, layers, transform, batch_size, num_workers, device, channels_last, autocast
    )
    if (reduction or {}).get("method") == "pca":
        if not pca_images:
            raise ValueError("the pca reduction needs a separate image set (pca_images)")
        flat = {layer: [] for layer in layers}
        for _, outputs in run(pca_images, lambda layer, out: out.flatten(1).float().cpu()):
            for layer, values in outputs.items():
                flat[layer].append(values)
        for layer in layers:
            reducers[layer].fit_pca(torch.cat(flat.pop(layer)).to(device))
    description = {layer: reducer.describe() for layer, reducer in reducers.items()}
    writer = ActivationWriter(
        out_path, stimulus_ids, {**attrs, "layers": list(layers), "reduction": str(description)}
    )
    try:
        batches = run(image_paths, lambda layer, out: reducers[layer](out), progress)
        for start, outputs in batches:
            for layer, features in outputs.items():
                writer.write(
                    layer, reducers[layer].dims(features), start, features.float().cpu().numpy()
                )
        for layer, reducer in reducers.items():
            if reducer.unit_index is not None:
                writer.write_index(
                    f"{layer}_feature",
                    reducer.unit_index,
                    {"layer_shape": np.asarray(reducer.layer_shape, dtype=np.int64)},
                )
    except BaseException:
        writer.abort()
        raise
    writer.close()


class _Runner:
    """Runs a model over image files batch by batch, yielding (start, {layer: reduced output})."""

    def __init__(
        self, module, layers, transform, batch_size, num_workers, device, channels_last, autocast
    ):
        self.module, self.layers, self.transform = module, list(layers), transform
        self.batch_size, self.num_workers, self.device = batch_size, num_workers, device
        self.channels_last, self.autocast = channels_last, autocast

    def __call__(self, paths, reduce, progress: bool = False):
        loader = DataLoader(
            ImageFiles(paths, self.transform),
            batch_size=self.batch_size,
            num_workers=self.num_workers,
            pin_memory=self.device.startswith("cuda"),
        )
        captured: dict[str, torch.Tensor] = {}
        modules = dict(self.module.named_modules())
        hooks = [
            modules[layer].register_forward_hook(
                lambda _m, _i, out, layer=layer: captured.__setitem__(layer, reduce(layer, out))
            )
            for layer in self.layers
        ]
        amp = (
            torch.autocast(self.device.split(":")[0], dtype=AUTOCAST_DTYPES[self.autocast])
            if self.autocast
            else contextlib.nullcontext()
        )
        try:
            start = 0
            for batch in _progress(loader, progress, len(paths)):
                batch = batch.to(self.device, non_blocking=True)
                if self.channels_last:
                    batch = batch.contiguous(memory_format=torch.channels_last)
                with amp:
                    self.module(batch)
                _check_captured(self.layers, captured)
                yield start, {layer: captured.pop(layer) for layer in self.layers}
                start += len(batch)
        finally:
            for hook in hooks:
                hook.remove()


def _check_captured(layers: list[str], captured: dict) -> None:
    """Refuse layers whose module never ran in the forward pass (e.g. a ModuleList whose blocks
    the model calls one by one): their hooks never fire."""
    silent = [layer for layer in layers if layer not in captured]
    if silent:
        raise ValueError(
            f"layer(s) {silent} never ran in the model's forward pass (a container whose "
            "children the model calls one by one has no output of its own); name layers that "
            "run, e.g. the last block of each stage, in config activations.model_layers"
        )


def _progress(loader, enabled: bool, total: int):
    if not enabled:
        return loader
    from tqdm import tqdm

    return tqdm(loader, total=len(loader), unit="batch", desc=f"{total} images")
