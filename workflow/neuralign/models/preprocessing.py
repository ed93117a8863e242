"""Image preprocessing: the model's own (timm data config) or Brain-Score's, for parity runs.

Brain-Score's: the stimulus, which spans ``stimulus_degrees`` of visual angle, is placed in the
model's ``model_degrees`` field of view on a grey background (or cropped to it when larger),
resized to ``image_size`` without a centre crop, and normalised with ImageNet mean and std.
"""

from __future__ import annotations

import timm
from PIL import Image
from torchvision import transforms

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
GREY = (128, 128, 128)
PREPROCESSING = ("model", "brainscore")


def place_in_field(
    image: Image.Image, stimulus_degrees: float, model_degrees: float
) -> Image.Image:
    """The image as seen by a model whose field of view spans ``model_degrees``."""
    width, height = image.size
    field = round(max(width, height) * model_degrees / stimulus_degrees)
    canvas = Image.new("RGB", (field, field), GREY)
    canvas.paste(image, ((field - width) // 2, (field - height) // 2))
    return canvas


def brainscore_transform(
    image_size: int = 224, stimulus_degrees: float = 8.0, model_degrees: float = 8.0
):
    """Brain-Score's preprocessing as a torchvision transform of a PIL RGB image."""
    return transforms.Compose(
        [
            transforms.Lambda(lambda image: place_in_field(image, stimulus_degrees, model_degrees)),
            transforms.Resize((image_size, image_size)),
            transforms.ToTensor(),
            transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )


def make_transform(data_config: dict, options: dict):
    """The transform that ``options['preprocessing']`` asks for."""
    kind = options.get("preprocessing", "model")
    if kind == "model":
        return timm.data.create_transform(**data_config, is_training=False)
    if kind == "brainscore":
        return brainscore_transform(
            options.get("image_size", 224),
            options.get("stimulus_degrees", 8.0),
            options.get("model_degrees", 8.0),
        )
    raise ValueError(f"unknown preprocessing {kind!r}; valid: {', '.join(PREPROCESSING)}")


def describe(data_config: dict, options: dict) -> str:
    """One line for the artifact's attributes."""
    if options.get("preprocessing", "model") == "brainscore":
        return (
            f"brainscore: {options.get('stimulus_degrees', 8.0)} deg stimulus in a "
            f"{options.get('model_degrees', 8.0)} deg field on grey, resized to "
            f"{options.get('image_size', 224)} px, ImageNet mean/std, no crop"
        )
    return f"model: timm data config {data_config}"
