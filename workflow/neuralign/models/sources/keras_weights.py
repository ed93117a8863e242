"""Weights-only Keras HDF5 files loaded into timm architectures, tensor by tensor, without
TensorFlow.

A tf.keras 2 ``model.save_weights("x.h5")`` file holds no architecture: the model must be
rebuilt in code. For the architectures registered in ``LAYOUTS`` the matching timm model is
built instead and every one of its tensors is taken from the file by name, with the layout
change it needs (``neuralign.models.sources.keras_mappings``):

- convolution kernels (kh, kw, in, out) -> torch (out, in, kh, kw); depthwise kernels
  (kh, kw, channels, 1) -> (channels, 1, kh, kw); Dense kernels (in, out) -> Linear (out, in);
- BatchNormalization gamma / beta / moving_mean / moving_variance -> weight / bias /
  running_mean / running_var; LayerNormalization gamma / beta -> weight / bias;
- attention: vit-keras's separate query, key and value Dense layers are stacked into timm's
  packed ``qkv`` Linear; relative position tables are transposed or reindexed (per layout).

Nothing is guessed: a tensor of the timm model that the file lacks, a tensor of the file that
the layout does not use, or a tensor of the wrong shape stops the load with an error naming
it. The file is read with h5py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
import timm
import torch

from neuralign.models.sources.keras_h5 import attribute_list
from neuralign.models.sources.keras_mappings import (
    Mapping,
    convnext_mapping,
    levit_mapping,
    maxvit_mapping,
    vit_keras_mapping,
)


class KerasWeightsError(ValueError):
    """A weights file that is missing, unreadable, or does not fit its layout."""


Weights = dict[str, np.ndarray]


@dataclass(frozen=True)
class Layout:
    """A Keras architecture (as built by its library) and the timm architecture it maps to."""

    keras_model: str  # how the Keras model is built, for messages and docs
    arch: str  # timm architecture
    mapping: Callable[[torch.nn.Module], Mapping]
    arch_kwargs: dict = field(default_factory=dict)

    def architecture(self) -> torch.nn.Module:
        """The timm architecture with timm's initial weights."""
        return timm.create_model(self.arch, pretrained=False, **self.arch_kwargs)


def read_weights(path: str | Path) -> Weights:
    """Every weight of a tf.keras 2 HDF5 weights file, keyed by its Keras name without the
    ``:0`` suffix (``<layer>/<variable>``, nested layers' names in between)."""
    path = Path(path)
    if not path.is_file():
        raise KerasWeightsError(f"Keras weights file {path} does not exist")
    try:
        with h5py.File(path, "r") as handle:
            root = handle["model_weights"] if "model_weights" in handle else handle
            layers = attribute_list(root, "layer_names")
            if not layers:
                raise KerasWeightsError(
                    f"{path} is not a tf.keras 2 HDF5 weights file (no 'layer_names' attribute; "
                    "Keras 3 '.weights.h5' files are not supported)"
                )
            weights = {}
            for layer in layers:
                group = root[layer]
                for name in attribute_list(group, "weight_names"):
                    key = name.removesuffix(":0")
                    key = key if key.startswith(f"{layer}/") else f"{layer}/{key}"
                    weights[key] = np.asarray(group[name])
    except OSError as err:
        raise KerasWeightsError(f"{path} is not a readable HDF5 file ({err})") from err
    return weights


def load_weights(module: torch.nn.Module, weights: Weights, layout: Layout, path) -> None:
    """Load ``weights`` into ``module`` (built by ``layout``), checking every tensor.

    Raises KerasWeightsError naming the first tensor that is missing from the file, left
    over in it, or of the wrong shape.
    """
    state = module.state_dict()
    mapping = layout.mapping(module)
    parameters = {name for name, _ in module.named_parameters()}
    required = [
        key for key in state if key in parameters or key.endswith(("running_mean", "running_var"))
    ]
    unmapped = [key for key in required if key not in mapping]
    if unmapped:
        raise KerasWeightsError(f"layout {layout.keras_model}: no source for {unmapped[0]}")
    loaded = {}
    for key, source in mapping.items():
        lacking = [name for name in source.keras if name not in weights]
        if lacking:
            raise KerasWeightsError(
                f"{path}: tensor {lacking[0]!r} is missing ({layout.arch} {key} is made from "
                f"{list(source.keras)}); is this a {layout.keras_model} weights file?"
            )
        arrays = [weights[name] for name in source.keras]
        found = ", ".join(
            f"{name!r} {array.shape}" for name, array in zip(source.keras, arrays, strict=True)
        )
        expected = tuple(state[key].shape)
        try:
            value = np.asarray(source.convert(*arrays), dtype=np.float32)
        except ValueError as err:
            raise KerasWeightsError(
                f"{path}: {found} cannot become {layout.arch} {key} {expected} ({err})"
            ) from err
        if value.shape != expected:
            raise KerasWeightsError(
                f"{path}: {found} gives shape {value.shape}; {layout.arch} {key} needs {expected}"
            )
        loaded[key] = torch.from_numpy(np.ascontiguousarray(value))
    used = {name for source in mapping.values() for name in source.keras}
    extra = [name for name in weights if name not in used]
    if extra:
        raise KerasWeightsError(
            f"{path}: tensor {extra[0]!r} {weights[extra[0]].shape} is not part of "
            f"{layout.keras_model} ({len(extra)} such tensor(s)); is this the right file?"
        )
    module.load_state_dict({**state, **loaded}, strict=True)


LAYOUTS: dict[str, Layout] = {
    "vit_keras.vit_b16": Layout(
        keras_model="vit-keras vit.vit_b16(image_size=224, include_top=True)",
        arch="vit_base_patch16_224",
        mapping=vit_keras_mapping,
    ),
    "kecam.LeViT128": Layout(
        keras_model="kecam levit.LeViT128(use_distillation=False)",
        arch="levit_128",
        mapping=levit_mapping,
        arch_kwargs={"distilled": False},
    ),
    "kecam.ConvNeXtTiny": Layout(
        keras_model="kecam convnext.ConvNeXtTiny()",
        arch="convnext_tiny",
        mapping=convnext_mapping,
    ),
    "kecam.MaxViT_Tiny": Layout(
        keras_model="kecam maxvit.MaxViT_Tiny()",
        arch="maxvit_tiny_tf_224",
        mapping=maxvit_mapping,
    ),
}


def load(path: str | Path, layout: str) -> torch.nn.Module:
    """The timm model of ``layout`` in eval mode with the weights of the file ``path``."""
    entry = LAYOUTS[layout]
    module = entry.architecture()
    load_weights(module, read_weights(path), entry, path)
    return module.eval()
