"""The harmonized models of Fel, Felipe, Linsley & Serre 2022 that were published as weights
only, as model source ``harmonized:<name>``, e.g. ``harmonized:vit_b16``.

serre-lab/Harmonization (``docs/models.md`` and ``harmonization/models/*.py`` at commit
ffe1c49dba425504a74b050cedc8382a423448f3) publishes seven models. VGG16, ResNet50V2 and
EfficientNetB0 are whole Keras models (model source ``keras:<path>``); the four registered here
are tf.keras 2 ``save_weights`` files for architectures built in code, which its loaders build
as follows before ``model.load_weights``:

- ``vit.py``: vit-keras ``vit.vit_b16(image_size=224, activation='linear', pretrained=False,
  include_top=True, pretrained_top=False)``;
- ``levit.py``: kecam ``LeViT128(classifier_activation=None, use_distillation=False)``;
- ``convnext.py``: kecam ``ConvNeXtTiny(classifier_activation=None, pretrained=None)``;
- ``maxvit.py``: kecam ``MaxViT_Tiny(classifier_activation=None, pretrained=None)``.

Each is loaded into the matching timm architecture by ``neuralign.models.sources.keras_weights``.
Inputs are
224 x 224 RGB scaled to [0, 1] and normalised with the ImageNet mean and std (``preprocess.py``:
``images / 255``, minus ``IMAGENET_MEAN``, divided by ``IMAGENET_STD``). No checksum is
published: rule download fetches the file to ``resources/<host>/<path>`` of its URL and pins
its sha256 by trust on first use. ``MODELS`` is the one source of each URL: a model table row
may repeat it in its ``url`` column, and ``neuralign.config.check_model_files`` requires the two
to agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from neuralign.io.download import RemoteFile
from neuralign.io.resources import resource_path

if TYPE_CHECKING:
    import torch

BUCKET = "https://storage.googleapis.com/serrelab/prj_harmonization/models"
INPUT_SIZE = (3, 224, 224)


@dataclass(frozen=True)
class PublishedWeights:
    """One published weights file and the layout (``keras_weights.LAYOUTS``) it was saved in."""

    url: str
    layout: str

    @property
    def remote(self) -> RemoteFile:
        """The published file (no checksum published: trust on first use)."""
        return RemoteFile(self.url)


MODELS: dict[str, PublishedWeights] = {
    "vit_b16": PublishedWeights(f"{BUCKET}/vit-b16_harmonized.h5", "vit_keras.vit_b16"),
    "levit_128": PublishedWeights(f"{BUCKET}/levit_small_harmonized.h5", "kecam.LeViT128"),
    "convnext_tiny": PublishedWeights(
        f"{BUCKET}/convnext_tiny_harmonized.h5", "kecam.ConvNeXtTiny"
    ),
    "maxvit_tiny": PublishedWeights(f"{BUCKET}/maxvit_tiny_harmonized.h5", "kecam.MaxViT_Tiny"),
}


def weights_path(name: str) -> str:
    """Where the workflow keeps the file of ``name``: ``resources/<host>/<path>`` of its URL."""
    return resource_path(MODELS[name].remote)


def architecture(name: str) -> torch.nn.Module:
    """The timm architecture of ``name`` with timm's initial weights."""
    from neuralign.models.sources import keras_weights

    return keras_weights.LAYOUTS[MODELS[name].layout].architecture()


def load(name: str) -> torch.nn.Module:
    """The harmonized model ``name`` in eval mode; KerasWeightsError if its file is missing or
    does not fit (rule download fetches it: ``snakemake <weights_path(name)>``)."""
    from neuralign.models.sources import keras_weights

    entry = MODELS[name]
    try:
        return keras_weights.load(weights_path(name), entry.layout)
    except keras_weights.KerasWeightsError as err:
        raise keras_weights.KerasWeightsError(f"{err} (published at {entry.url})") from err
