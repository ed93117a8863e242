"""Adversarially trained ImageNet ResNets of Salman et al. 2020 ("Do Adversarially Robust ImageNet
Models Transfer Better?"), as model source ``robust:<name>``, e.g. ``robust:resnet50_l2_eps3``.

``<name>`` is a key of ``CHECKPOINTS``: a file of the Madry lab's Hugging Face copy
(huggingface.co/madrylab/robust-imagenet-models, pinned to one commit) with the sha256 that
Hugging Face lists for it; the Azure links of github.com/microsoft/robust-models-transfer carry
SAS tokens and publish no checksum. The workflow's ``download`` rule fetches it to
``resources/<host>/<path>`` of its URL (a ``NEURALIGN_MIRROR`` copy first); loading checks the
sha256 again.

Layout (MadryLab/robustness ``train.py``, ``attacker.py``): ``torch.save`` of a dict with
``model`` (the state_dict of ``DataParallel(AttackerModel)``), ``optimizer``, ``schedule``,
``epoch``, ``amp`` and ``<nat|adv>_prec1``. Its keys: ``module.model.*`` (the classifier, a
torchvision-layout ResNet), ``module.attacker.model.*`` (the same tensors again),
``module.normalizer.new_mean/new_std`` and ``module.attacker.normalize.new_mean/new_std``
(``(3, 1, 1)`` ImageNet mean and std, applied inside the model after clamping to [0, 1]). Only
``module.model.*`` is loaded, into the timm ResNet of the same name (tensor names and shapes
equal torchvision's); the normalizer becomes the data config's mean and std.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from neuralign.io.download import RemoteFile
from neuralign.io.resources import DownloadError, resource_path

if TYPE_CHECKING:
    import torch

HF_COMMIT = "3f04ac96136001cfe402022100728124cbe3fac5"
HF_FILES = f"https://huggingface.co/madrylab/robust-imagenet-models/resolve/{HF_COMMIT}"
MODEL_PREFIX = "module.model."
NORMALIZER_PREFIX = "module.normalizer."
# robustness/data_augmentation.py TEST_TRANSFORMS_IMAGENET: Resize(256) (bilinear),
# CenterCrop(224), ToTensor; the mean and std come from the checkpoint's normalizer.
EVAL_TRANSFORM = {
    "input_size": (3, 224, 224),
    "interpolation": "bilinear",
    "crop_pct": 224 / 256,
    "crop_mode": "center",
}


class CheckpointError(ValueError):
    """A robust checkpoint that is missing, not the published file, or not loadable."""


@dataclass(frozen=True)
class RobustCheckpoint:
    """One published checkpoint: its architecture (timm and torchvision name) and file."""

    arch: str
    remote: RemoteFile


# Name -> sha256: the Git LFS "SHA256" on each file's Hugging Face page at HF_COMMIT. Names are
# the file names, <arch>_<norm>_eps<eps>: L2 eps in [0, 1] pixel units, Linf eps in units of 1/255.
SHA256 = {
    "resnet18_l2_eps0.5": "69a10462280f266ab855547fde0649ac909f06174ed8df83b8bf2ea0f6fc8150",
    "resnet18_l2_eps1": "92e6c37af550167c7c49c77ad31aad027de4e1f47fbef57546a48ef43626ebcf",
    "resnet18_l2_eps3": "b4315784a1a10257b05906aee94d6884678f7b77412d10100d7c05daa959eab0",
    "resnet18_l2_eps5": "d3ef126afdf9144a22020988dc46f552a0c39347e954c34359a3cb6bf83df186",
    "resnet18_linf_eps0.5": "48d5e933d4ec99b390a0b7c628a4303343f9517a46245cbd7d2f2c034cbd93ee",
    "resnet18_linf_eps1.0": "b49800111d38197deefb0c236055fbdd9d91a0607e55d6cc0bce15504adc9582",
    "resnet18_linf_eps2.0": "bf2611291cc5f792c7f8f17ff6f841f9a0ede32dbe575cbd5bc57233139ae8bd",
    "resnet18_linf_eps4.0": "6f8ccef1ae4958c381617081e9e0fb5f50e7cccd4965192d1caa452fd6c5cd1e",
    "resnet50_l2_eps0.01": "53d7a7c09d2733b113e255ac9fc578091f44adb8d00eee274c0e71dd1f4dc41e",
    "resnet50_l2_eps0.03": "e375df3bf07bf1360c04b0aff5cc19bb215e850b1af713327c87cf0353a5598f",
    "resnet50_l2_eps0.05": "e09d8763fcf825542f07389a1904adf15930451b8661a0de209c3bc39828c2ea",
    "resnet50_l2_eps0.1": "3298f8cf689e514d096df883ab491a11ee32c3b8d456d674add29d7b50721a43",
    "resnet50_l2_eps0.5": "a5fc6fcc54946b73af7bd74289b0003cc9d2744fa0ff55c1a3d9fb2bce8fbd30",
    "resnet50_l2_eps1": "09f5273a568830ae23caf9162a06f4831a920293e0da1801aa182289052dcf90",
    "resnet50_l2_eps3": "380b14e6f9750bffa1447cf7017f65da4dc5ce71a3dd112f107515dcf7b14d9d",
    "resnet50_l2_eps5": "c50db4bbd9a61bc0e0a33290e1f07a79080e16489aa5ada869efc88306f497be",
    "resnet50_linf_eps0.5": "9612d8096ef5378b4a32746072f72fedcb02c7ff4b747bc7163274f7ec2f0fd8",
    "resnet50_linf_eps2.0": "59f28de783a049cb4d91ba1c0a09c314db2cc4bb1e859566e023f842b02772ac",
    "resnet50_linf_eps4.0": "9e62216975c111b8081481533b6142dec34be69abe5d90b54d7f860015c263db",
    "resnet50_linf_eps8.0": "b907957f8e3ce209816813d8811c682e965a1b0f48455def828d35a4cc2953dc",
}
CHECKPOINTS: dict[str, RobustCheckpoint] = {
    name: RobustCheckpoint(
        arch=name.rsplit("_", 2)[0],
        remote=RemoteFile(f"{HF_FILES}/{name}.ckpt", sha256=sha256),
    )
    for name, sha256 in SHA256.items()
}


def checkpoint_path(name: str) -> str:
    """Where the workflow keeps checkpoint ``name``: ``resources/<host>/<path>`` of its URL."""
    return resource_path(CHECKPOINTS[name].remote)


def architecture(name: str) -> torch.nn.Module:
    """The untrained architecture of checkpoint ``name``."""
    import timm

    return timm.create_model(CHECKPOINTS[name].arch, pretrained=False)


def load(name: str) -> tuple[torch.nn.Module, dict]:
    """The model of checkpoint ``name`` in eval mode and its timm data config.

    The file must have the published sha256 (so it is the Madry lab's file); it is read with
    ``torch.load(weights_only=True)``, which unpickles tensors and plain containers only.
    """
    import torch

    entry = CHECKPOINTS[name]
    path = checkpoint_path(name)
    try:
        entry.remote.verify(path)
    except DownloadError as err:
        raise CheckpointError(
            f"{err} (the workflow's rule download fetches it: `snakemake {path}`)"
        ) from err
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise CheckpointError(
            f"{path}: torch.load(weights_only=True) cannot read it ({err})"
        ) from err
    state, mean, std = split_checkpoint(checkpoint, path)
    module = architecture(name)
    check_tensors(state, module.state_dict(), path, entry.arch)
    module.load_state_dict(state, strict=True)
    return module.eval(), {**EVAL_TRANSFORM, "mean": mean, "std": std}


def split_checkpoint(checkpoint, path: str) -> tuple[dict, tuple, tuple]:
    """The classifier state dict (``module.model.`` removed) and the normalizer's mean and std."""
    import torch

    state = checkpoint.get("model") if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: not a robustness checkpoint (no 'model' state dict)")
    classifier = {
        key.removeprefix(MODEL_PREFIX): value
        for key, value in state.items()
        if key.startswith(MODEL_PREFIX)
    }
    stats = []
    for buffer in ("new_mean", "new_std"):
        value = state.get(NORMALIZER_PREFIX + buffer)
        if not isinstance(value, torch.Tensor) or value.numel() != 3:
            raise CheckpointError(f"{path}: no 3-channel {NORMALIZER_PREFIX}{buffer} tensor")
        stats.append(tuple(value.flatten().tolist()))
    return classifier, stats[0], stats[1]


def check_tensors(state: dict, target: dict, path: str, arch: str) -> None:
    """Raise CheckpointError at the first tensor of ``target`` that ``state`` lacks or shapes
    differently, or at the first tensor of ``state`` that ``target`` lacks."""
    for key, expected in target.items():
        found = state.get(key)
        if found is None or found.shape != expected.shape:
            what = "is missing" if found is None else f"has shape {tuple(found.shape)}"
            raise CheckpointError(
                f"{path}: {MODEL_PREFIX}{key} {what}; {arch} needs {tuple(expected.shape)} "
                f"(not a {arch} checkpoint?)"
            )
    extra = [key for key in state if key not in target]
    if extra:
        raise CheckpointError(
            f"{path}: {MODEL_PREFIX}{extra[0]} is not a tensor of {arch} "
            f"({len(extra)} such entries; not a {arch} checkpoint?)"
        )
