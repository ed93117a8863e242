"""An ImageNet-style image folder (``<root>/<wnid>/<image>``) as harmonizer training samples.

Class indices follow the sorted wnid order, as torchvision's ``ImageFolder`` and the ImageNet-1k
labels (and so ClickMe's) do; pass ``classes`` (e.g. ``imagenet_wnids()``) to keep ImageNet
indices in a folder holding only some classes. Samples are (image, label, zero map,
has_map=False), so they mix with ClickMe samples (``torch.utils.data.ConcatDataset``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image
from timm.data import ImageNetInfo, create_transform
from torch.utils.data import Dataset

IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png", ".bmp", ".webp")


def imagenet_wnids() -> list[str]:
    """The 1000 ImageNet-1k wnids in class-index order (shipped with timm)."""
    return list(ImageNetInfo().label_names())


def find_samples(
    root: str | os.PathLike, classes: Sequence[str] | None = None
) -> tuple[list[str], list[tuple[Path, int]]]:
    """(classes, [(image path, class index)]) of ``root/<class>/<image>``, sorted."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {root} does not exist")
    folders = sorted(p.name for p in root.iterdir() if p.is_dir())
    if not folders:
        raise FileNotFoundError(f"image folder {root} has no class subfolders <wnid>/")
    classes = list(classes) if classes is not None else folders
    index = {name: i for i, name in enumerate(classes)}
    unknown = [name for name in folders if name not in index]
    if unknown:
        raise ValueError(f"image folder {root}: subfolder(s) {unknown[:5]} are not known classes")
    samples = [
        (path, index[name])
        for name in folders
        for path in sorted((root / name).iterdir())
        if path.suffix.lower() in IMAGE_SUFFIXES
    ]
    if not samples:
        raise FileNotFoundError(f"image folder {root} holds no images ({IMAGE_SUFFIXES})")
    return classes, samples


class ImageFolderDataset(Dataset):
    """Images of an ImageNet-style folder, transformed by a timm data config.

    ``data_config`` is a model's (``neuralign.models.loading.LoadedModel.data_config``): resize by
    its
    crop fraction, centre crop to ``input_size``, normalise; ``image_size`` overrides the crop
    size; ``flip`` mirrors with probability 1/2 (torch's global RNG).
    """

    def __init__(
        self,
        root: str | os.PathLike,
        data_config: dict,
        *,
        image_size: int | None = None,
        classes: Sequence[str] | None = None,
        flip: bool = False,
        max_images: int | None = None,
    ):
        self.classes, samples = find_samples(root, classes)
        self.samples = samples[:max_images]
        config = dict(data_config)
        if image_size:
            config["input_size"] = (3, image_size, image_size)
        self.size = config["input_size"][-2:]
        keys = ("input_size", "interpolation", "mean", "std", "crop_pct", "crop_mode")
        self.transform = create_transform(
            **{k: config[k] for k in keys if k in config}, is_training=False
        )
        self.flip = flip

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, item: int):
        path, label = self.samples[item]
        try:
            with Image.open(path) as image:
                tensor = self.transform(image.convert("RGB"))
        except OSError as err:
            raise OSError(f"image {path} cannot be read ({err})") from err
        if self.flip and torch.rand(()) < 0.5:
            tensor = tensor.flip(-1)
        return tensor, label, torch.zeros(self.size), False
