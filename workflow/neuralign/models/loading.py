"""One loader for every kind of model source (``neuralign.models.table``): the architecture
alone (``build_architecture``, for layer checks) or the model with its weights and
preprocessing (``load_model``); timm checkpoints the workflow saves and reads.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import timm
import torch
import torchvision

from neuralign.io.artifacts import save_torch, unreadable
from neuralign.models.layers import default_layers
from neuralign.models.sources import harmonized as harmonized_models
from neuralign.models.sources import hub_weights, keras_h5, keras_weights, offline_weights
from neuralign.models.sources import robust as robust_models
from neuralign.models.table import ModelError, check_source, parse_source

UNTRAINED_SEED = 0


@dataclass
class LoadedModel:
    """A model ready for feature extraction."""

    module: torch.nn.Module
    data_config: dict
    default_layers: list[str]
    weights_sha256: str


def build_architecture(source: str) -> torch.nn.Module:
    """The architecture of ``source`` without weights, on the meta device (for layer checks)."""
    check_source(source)
    kind, name = parse_source(source)
    if kind == "keras":
        return _load_keras(name)
    with torch.device("meta"):
        if kind == "torchvision":
            return torchvision.models.get_model(hub_weights.split_torchvision_name(name)[0])
        if kind == "checkpoint":
            return timm.create_model(_read_checkpoint(name)["arch"], pretrained=False)
        if kind == "robust":
            return robust_models.architecture(name)
        if kind == "harmonized":
            return harmonized_models.architecture(name)
        return timm.create_model(name, pretrained=False)


def load_model(source: str) -> LoadedModel:
    """Instantiate the model of ``source`` in eval mode with its weights and preprocessing."""
    check_source(source)
    kind, name = parse_source(source)
    data_config = None
    if kind == "offline":
        try:
            module = offline_weights.load_offline_model(name)
        except FileNotFoundError as err:
            raise ModelError(f"model source {source!r}: {err}") from err
    elif kind in hub_weights.HUB_KINDS:
        try:
            if kind == "timm":
                module = hub_weights.load_timm(name)
            else:
                module = hub_weights.load_torchvision(name)
                data_config = torchvision_data_config(*hub_weights.split_torchvision_name(name))
        except hub_weights.WeightsError as err:
            raise ModelError(f"model source {source!r}: {err}") from err
    elif kind == "checkpoint":
        checkpoint = _read_checkpoint(name)
        module = timm.create_model(checkpoint["arch"], pretrained=False)
        module.load_state_dict(checkpoint["state_dict"])
    elif kind == "keras":
        module = _load_keras(name)
        data_config = keras_data_config(module.input_size)
    elif kind == "robust":
        try:
            module, data_config = robust_models.load(name)
        except robust_models.CheckpointError as err:
            raise ModelError(f"model source {source!r}: {err}") from err
    elif kind == "harmonized":
        try:
            module = harmonized_models.load(name)
        except keras_weights.KerasWeightsError as err:
            raise ModelError(f"model source {source!r}: {err}") from err
        data_config = keras_data_config(harmonized_models.INPUT_SIZE)
    else:
        torch.manual_seed(UNTRAINED_SEED)
        module = timm.create_model(name, pretrained=False)
    module.eval()
    return LoadedModel(
        module=module,
        data_config=data_config or timm.data.resolve_data_config({}, model=module),
        default_layers=default_layers(module) if hasattr(module, "feature_info") else [],
        weights_sha256=state_dict_sha256(module),
    )


def _load_keras(path: str) -> torch.nn.Module:
    try:
        return keras_h5.load_keras_h5(path)
    except keras_h5.KerasH5Error as err:
        raise ModelError(f"model source 'keras:{path}': {err}") from err


def keras_data_config(input_size: tuple[int, int, int] | None) -> dict:
    """Preprocessing of a Keras model: bilinear resize and centre crop (timm's crop fraction)
    to its input size, pixels in [0, 1] normalised with the ImageNet mean and std (the
    harmonized models' ``preprocess_input``)."""
    config = {"input_size": input_size or (3, 224, 224), "interpolation": "bilinear"}
    return timm.data.resolve_data_config(config)


def torchvision_data_config(arch: str, weights: str = "DEFAULT") -> dict:
    """torchvision's evaluation preprocessing of a model's weights, as a timm data config."""
    transforms = torchvision.models.get_model_weights(arch)[weights].transforms()
    crop, resize = transforms.crop_size[0], transforms.resize_size[0]
    return {
        "input_size": (3, crop, crop),
        "interpolation": transforms.interpolation.value,
        "mean": tuple(transforms.mean),
        "std": tuple(transforms.std),
        "crop_pct": crop / resize,
        "crop_mode": "center",
    }


def save_checkpoint(
    module: torch.nn.Module, arch: str, path: str | Path, provenance: dict | None = None
) -> None:
    """Save a timm model so that ``checkpoint:<path>`` loads it (atomically, with the job's
    ``provenance`` under its own key)."""
    checkpoint = {"arch": arch, "state_dict": module.state_dict()}
    save_torch({**checkpoint, "provenance": dict(provenance or {})}, path)


def _read_checkpoint(path: str) -> dict:
    if not Path(path).is_file():
        raise ModelError(f"checkpoint {path} does not exist")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ModelError(str(unreadable(path, "a PyTorch checkpoint (torch.load)", err))) from err
    if not isinstance(checkpoint, dict) or not {"arch", "state_dict"} <= checkpoint.keys():
        raise ModelError(f"checkpoint {path} lacks 'arch' and 'state_dict' entries")
    return checkpoint


def state_dict_sha256(module: torch.nn.Module) -> str:
    """Checksum of every tensor of the state dict, in order (identifies the weights)."""
    digest = hashlib.sha256()
    for key, tensor in module.state_dict().items():
        digest.update(key.encode())
        digest.update(
            tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
        )
    return digest.hexdigest()
