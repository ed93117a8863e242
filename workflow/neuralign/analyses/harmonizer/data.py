"""The training set of a harmonizer run: the synthetic shortcut task, ClickMe, or ClickMe
mixed with an ImageNet folder.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from torch.utils.data import ConcatDataset, Dataset, TensorDataset

from neuralign.datasets import clickme_samples
from neuralign.datasets.simulated import synthetic_shortcut as ss
from neuralign.io.imagefolder import ImageFolderDataset, imagenet_wnids

DATA_KINDS = ("synthetic", "clickme", "clickme+imagenet")
SYNTHETIC_IMAGES = 1000


def synthetic_training_data(
    n: int, *, seed: int, image_size: int = ss.SIZE, map_fraction: float = 0.5
) -> TensorDataset:
    """The synthetic shortcut task (``neuralign.datasets.simulated.synthetic_shortcut``) at
    ``image_size``."""
    images, labels, maps, has_map = ss.make_dataset(n, seed=seed, map_fraction=map_fraction).tensors
    if image_size != ss.SIZE:
        images = F.interpolate(images, size=(image_size, image_size), mode="nearest")
        maps = F.interpolate(maps[:, None], size=(image_size, image_size), mode="nearest")[:, 0]
    return TensorDataset(images, labels, maps, has_map)


def training_data(
    options: dict,
    data_config: dict,
    *,
    clickme_train: Sequence[str] = (),
    imagenet_folder: str | None = None,
) -> Dataset:
    """The training set of a run: synthetic, ClickMe, or ClickMe mixed with an ImageNet folder."""
    kind = options["data"]
    size = options.get("image_size") or data_config["input_size"][-1]
    limit = options.get("n_images")
    if kind == "synthetic":
        return synthetic_training_data(
            limit or SYNTHETIC_IMAGES, seed=options["seed"], image_size=size
        )
    if kind not in DATA_KINDS:
        raise ValueError(f"harmonizer data {kind!r} unknown; valid: {', '.join(DATA_KINDS)}")
    if not clickme_train:
        raise ValueError(
            f"harmonizer data {kind!r} needs ClickMe training shards "
            "(config 'harmonizer.clickme.train': a folder of train-<i>.tfrecords)"
        )
    mean, std = data_config["mean"], data_config["std"]
    parts = [
        clickme_samples.ClickMeDataset(
            clickme_train, image_size=size, mean=mean, std=std, flip=True, max_images=limit
        )
    ]
    if kind == "clickme+imagenet":
        if not imagenet_folder:
            raise ValueError(
                "harmonizer data 'clickme+imagenet' needs config 'harmonizer.imagenet_train': "
                "an ImageNet-style folder <wnid>/<image>"
            )
        parts.append(
            ImageFolderDataset(
                imagenet_folder,
                data_config,
                image_size=size,
                classes=imagenet_wnids(),
                flip=True,
                max_images=limit,
            )
        )
    return ConcatDataset(parts) if len(parts) > 1 else parts[0]
