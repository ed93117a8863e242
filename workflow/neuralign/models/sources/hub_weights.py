"""Pretrained weights of ``timm:`` and ``torchvision:`` models as files the workflow downloads.

Extraction jobs (often on compute nodes without internet access) never download: rule
``download`` fetches each selected model's weights beforehand, with the project's one download
function, into ``resources/<host>/<path>`` of the URL (so ``NEURALIGN_MIRROR`` and trust on
first use apply), and ``load_timm`` / ``load_torchvision`` read that file.

Where the URLs come from (the installed libraries' own metadata, so they change only with a
new pin in ``constraints.txt``):

- timm: the weights' ``pretrained_cfg``. With an ``hf_hub_id`` (``<repo>[@<revision>]``) the
  file is ``https://huggingface.co/<repo>/resolve/<revision or main>/<file>``, where ``<file>``
  is the safetensors file timm itself tries first (``_get_safe_alternatives`` in
  ``timm/models/_hub.py``: ``pytorch_model.bin`` → ``model.safetensors``,
  ``open_clip_pytorch_model.bin`` → ``open_clip_model.safetensors``, other ``<x>.bin`` →
  ``<x>.safetensors``; ``hf_hub_filename`` names a non-default file); without one, its ``url``.
  Loaded by ``timm.create_model(..., pretrained_cfg_overlay={"file": path})``, which applies
  the model's checkpoint filter (``timm/models/_builder.py``, ``load_pretrained``) and loads
  strictly. No checksum is published: trust on first use.
- torchvision: the weights enum's ``url`` (``download.pytorch.org/models/<name>-<hash>.pth``),
  whose ``<hash>`` is the start of the file's sha256 (``torch.hub.HASH_REGEX``, checked by
  ``load_state_dict_from_url(check_hash=True)``), verified here too. The file is read with
  ``torch.load(weights_only=True)`` and handed to torchvision's own model builder (so
  builder settings tied to the weights, such as GoogLeNet's ``transform_input``, are kept),
  which loads it strictly.

A file whose tensors do not fit the architecture (names or shapes) raises ModelError naming it.
The URLs come from ``neuralign.models.catalog``; timm, torch and torchvision are imported by
the loaders only (every workflow start locates the weights).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING
from unittest import mock

from neuralign.io.download import RemoteFile
from neuralign.io.resources import resource_path
from neuralign.models import catalog

if TYPE_CHECKING:
    import torch

HF_URL = "https://huggingface.co/{repo}/resolve/{revision}/{file}"
HF_DEFAULT_FILE = "pytorch_model.bin"
SAFE_ALTERNATIVES = {
    "pytorch_model.bin": "model.safetensors",
    "open_clip_pytorch_model.bin": "open_clip_model.safetensors",
}
HUB_KINDS = ("timm", "torchvision")
# torch.hub's HASH_REGEX: the hex digits after the last "-" of a torchvision file name
HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")


class WeightsError(ValueError):
    """Weights that cannot be located, or a file that does not fit its architecture."""


def timm_weights(name: str) -> tuple[RemoteFile, bool]:
    """The published weights file of timm model ``name`` (``<arch>.<tag>``) and whether it
    comes from the Hugging Face hub (then timm's npz ``custom_load`` does not apply)."""
    cfg = catalog.timm_pretrained(name)
    if cfg is None:
        raise WeightsError(f"timm has no pretrained weights named {name!r}")
    if cfg["hf_hub_id"]:
        repo, _, revision = cfg["hf_hub_id"].partition("@")
        file = cfg["hf_hub_filename"] or HF_DEFAULT_FILE
        file = SAFE_ALTERNATIVES.get(file, re.sub(r"\.bin$", ".safetensors", file))
        url = HF_URL.format(repo=repo, revision=revision or "main", file=file)
        return RemoteFile(url), True
    if cfg["url"]:
        return RemoteFile(cfg["url"]), False
    raise WeightsError(f"timm's pretrained config of {name!r} names no weights file")


def torchvision_weights(arch: str, weights: str) -> RemoteFile:
    """The published weights file of torchvision model ``arch`` with weights ``weights``."""
    url = catalog.torchvision_weights(arch)[weights]["url"]
    match = HASH_REGEX.search(Path(url).name)
    return RemoteFile(url, sha256_prefix=match.group(1) if match else None)


def remote_weights(kind: str, name: str) -> RemoteFile:
    """The weights file of model source ``<kind>:<name>`` (a hub kind)."""
    if kind == "timm":
        return timm_weights(name)[0]
    arch, weights = split_torchvision_name(name)
    return torchvision_weights(arch, weights)


def split_torchvision_name(name: str) -> tuple[str, str]:
    """``resnet50.IMAGENET1K_V1`` → (``resnet50``, ``IMAGENET1K_V1``); no suffix → DEFAULT."""
    arch, _, weights = name.partition(".")
    return arch, weights or "DEFAULT"


def weights_path(kind: str, name: str) -> str:
    """Where the workflow keeps the weights of ``<kind>:<name>``."""
    return resource_path(remote_weights(kind, name))


def _existing(path: str, source: str) -> str:
    if not Path(path).is_file():
        raise WeightsError(
            f"the weights of {source!r} are not in {path}; rule download fetches them "
            f"(`snakemake --cores 1 {path}`, on a machine with internet access or with "
            "NEURALIGN_MIRROR set)"
        )
    return path


def load_timm(name: str, path: str | os.PathLike | None = None) -> torch.nn.Module:
    """timm model ``name`` with the weights of the downloaded file (``path``: default
    ``weights_path``)."""
    import timm

    remote, from_hub = timm_weights(name)
    path = _existing(str(path or resource_path(remote)), f"timm:{name}")
    overlay = {"file": path, **({"custom_load": False} if from_hub else {})}
    try:
        return timm.create_model(name, pretrained=True, pretrained_cfg_overlay=overlay)
    except (RuntimeError, KeyError, ValueError, OSError) as err:
        raise WeightsError(
            f"{path}: its tensors do not fit timm's {name} ({err}); is it the file of "
            f"{remote.url}? Delete it and rerun to download it again"
        ) from err


def load_torchvision(name: str, path: str | os.PathLike | None = None) -> torch.nn.Module:
    """torchvision model ``<arch>[.<weights>]`` with the weights of the downloaded file."""
    import torch
    import torchvision

    arch, weights_name = split_torchvision_name(name)
    weights = torchvision.models.get_model_weights(arch)[weights_name]
    remote = torchvision_weights(arch, weights_name)
    path = _existing(str(path or resource_path(remote)), f"torchvision:{name}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise WeightsError(
            f"{path}: torch.load(weights_only=True) cannot read it ({err}); delete it and rerun "
            f"to download {remote.url} again"
        ) from err
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{path}: not a state dict of tensors (is it {remote.url}?)")
    # torchvision's builder takes the state dict from WeightsEnum.get_state_dict (public API),
    # which would download; it gets the file's tensors instead
    try:
        with mock.patch.object(weights, "get_state_dict", return_value=state):
            return torchvision.models.get_model(arch, weights=weights)
    except RuntimeError as err:
        raise WeightsError(
            f"{path}: its tensors do not fit torchvision's {arch} ({err}); is it the file of "
            f"{remote.url}?"
        ) from err
