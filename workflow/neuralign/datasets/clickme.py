"""ClickMe human feature-importance maps (Linsley et al. 2019), as published for the harmonizer.

The harmonization project (serre-lab/Harmonization, ``harmonization/common/clickme_dataset.py``)
publishes ClickMe as TFRecord shards ``<BASE_URL>/<split>/<split>-<i>.tfrecords`` (its loader
lists 318 training and 17 validation shards, numbered from 0). Each record is a
``tf.train.Example`` with three features:

- ``image``: JPEG bytes of a 256×256 RGB ImageNet image;
- ``heatmap``: JPEG bytes of the 256×256 single-channel ClickMe map (decoded with
  ``decode_jpeg``, reshaped to 256×256×1);
- ``label``: int64, the ImageNet class index (0–999, sorted-wnid order).

The published evaluation resizes the image to 224 (bilinear) and prepares the map by resizing
it to 64×64 (bilinear), blurring it with a 10×10 Gaussian (σ = 10, "SAME" zero padding) and
resizing it to the image size; ``human_map`` does the same. No checksums of the shards are
published: the workflow downloads them (``remote_shards``) with trust on first use, or reads
shards the user has put in a folder (``shard_paths``).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import Dataset

from neuralign.io.download import RemoteFile
from neuralign.io.tfrecord import (
    TFRecordError,
    parse_example,
    read_record_at,
    read_records,
    record_offsets,
)

BASE_URL = "https://storage.googleapis.com/serrelab/prj_harmonization/dataset/click-me"
N_SHARDS = {"train": 318, "val": 17}
IMAGE_SIZE = 256
MAP_BLUR_SIZE = 64
BLUR_KERNEL = 10
BLUR_SIGMA = 10.0
CITATION = (
    "Linsley, Shiebler, Eberhardt & Serre (2019) Learning what and where to attend, ICLR; "
    "Fel, Felipe, Linsley & Serre (2022) Harmonizing the object recognition strategies of "
    "deep neural networks with humans, NeurIPS"
)


class ClickMeExample(NamedTuple):
    """One decoded record: image (256, 256, 3) uint8, heatmap (256, 256) float32, label."""

    image: np.ndarray
    heatmap: np.ndarray
    label: int


def shard_url(split: str, index: int) -> str:
    """The published address of one shard."""
    if split not in N_SHARDS:
        raise ValueError(f"ClickMe split {split!r} unknown; valid: {', '.join(N_SHARDS)}")
    return f"{BASE_URL}/{split}/{split}-{index}.tfrecords"


def remote_shards(split: str) -> list[RemoteFile]:
    """Every published shard of ``split``, without checksums (trust on first use)."""
    return [RemoteFile(shard_url(split, index)) for index in range(N_SHARDS[split])]


def shard_paths(folder: str | os.PathLike, split: str) -> list[Path]:
    """The shards ``<split>-<i>.tfrecords`` in ``folder``, in shard order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"ClickMe folder {folder} does not exist; put the {split} shards "
            f"({shard_url(split, 0)} …) there"
        )
    pattern = re.compile(rf"{split}-(\d+)\.tfrecords")
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := pattern.fullmatch(p.name))]
    if not found:
        raise FileNotFoundError(
            f"ClickMe folder {folder} holds no {split}-<i>.tfrecords shards; download them "
            f"from {BASE_URL}/{split}/"
        )
    return [path for _, path in sorted(found)]


def _decode_jpeg(data: bytes, mode: str, what: str, where: str) -> np.ndarray:
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.mode != mode:
                raise TFRecordError(f"{where}: {what} has mode {image.mode}, expected {mode}")
            return np.array(image)
    except OSError as err:
        raise TFRecordError(f"{where}: {what} cannot be decoded as an image ({err})") from err


def decode_example(features: dict, where: str = "ClickMe record") -> ClickMeExample:
    """Decode the ``image``, ``heatmap`` and ``label`` features of one ClickMe record."""
    missing = [key for key in ("image", "heatmap", "label") if key not in features]
    if missing:
        raise TFRecordError(f"{where}: no feature(s) {missing}; is this a ClickMe shard?")
    image = _decode_jpeg(features["image"][0], "RGB", "image", where)
    heatmap = _decode_jpeg(features["heatmap"][0], "L", "heatmap", where).astype(np.float32)
    if image.shape[:2] != heatmap.shape:
        raise TFRecordError(f"{where}: image {image.shape} and heatmap {heatmap.shape} differ")
    return ClickMeExample(image, heatmap, int(features["label"][0]))


def read_clickme(paths: Sequence[str | os.PathLike], *, verify: bool = True):
    """Every decoded example of the given shards, in order."""
    for path in paths:
        for index, data in enumerate(read_records(path, verify=verify)):
            yield decode_example(parse_example(data), f"{path}: record {index}")


def blur_kernel(size: int = BLUR_KERNEL, sigma: float = BLUR_SIGMA) -> torch.Tensor:
    """The published blur kernel (size, size), normalised to sum 1.

    Columns sit at offsets −size//2 … size//2 − 1 … of a grid that, for an even size, is
    one step off-centre, exactly as the published meshgrid (x from −5 to 4, y from 4 to −5).
    """
    half = (size - 1) // 2
    x = torch.arange(-half - (size - 1) % 2, half + 1, dtype=torch.float64)
    y = torch.arange(half, -half - 1 - (size - 1) % 2, -1, dtype=torch.float64)
    kernel = torch.exp(-(y[:, None] ** 2 + x[None, :] ** 2) / (2 * sigma**2))
    return (kernel / kernel.sum()).float()


def _resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear resize with half-pixel centres and no antialiasing (TF2 ``image.resize``)."""
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


def human_map(heatmaps: torch.Tensor, size: int) -> torch.Tensor:
    """(N, H, W) ClickMe maps → resized to 64, blurred, resized to ``size`` (as published)."""
    x = _resize(heatmaps[:, None].float(), MAP_BLUR_SIZE)
    kernel = blur_kernel().to(x)
    before, after = (BLUR_KERNEL - 1) // 2, BLUR_KERNEL // 2  # TF "SAME" for an even kernel
    x = F.conv2d(F.pad(x, (before, after, before, after)), kernel[None, None])
    return _resize(x, size)[:, 0]


def prepare_image(
    image: np.ndarray, size: int, mean: Sequence[float], std: Sequence[float]
) -> torch.Tensor:
    """(H, W, 3) uint8 → (3, size, size) float, resized bilinearly, scaled to [0, 1], normalised."""
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float() / 255
    x = _resize(x, size)[0]
    return (x - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]


class ClickMeDataset(Dataset):
    """ClickMe shards as (image, label, human_map, has_map=True) samples for training.

    Records are located once (headers only, length CRCs checked); each sample is read,
    CRC-checked and decoded on access, so it can be shuffled and used by DataLoader workers.
    ``max_images`` keeps the first records (in shard order); ``flip`` mirrors image and map
    together with probability 1/2 (torch's global RNG).
    """

    def __init__(
        self,
        paths: Sequence[str | os.PathLike],
        *,
        image_size: int = 224,
        mean: Sequence[float] = (0.485, 0.456, 0.406),
        std: Sequence[float] = (0.229, 0.224, 0.225),
        flip: bool = False,
        max_images: int | None = None,
        verify: bool = True,
    ):
        self.records = [
            (str(path), offset, index)
            for path in paths
            for index, (offset, _) in enumerate(record_offsets(path, verify=verify))
        ][:max_images]
        self.image_size, self.mean, self.std = image_size, tuple(mean), tuple(std)
        self.flip, self.verify = flip, verify

    def __len__(self) -> int:
        return len(self.records)

    def example(self, item: int) -> ClickMeExample:
        path, offset, index = self.records[item]
        data = read_record_at(path, offset, index, verify=self.verify)
        return decode_example(parse_example(data), f"{path}: record {index}")

    def __getitem__(self, item: int):
        example = self.example(item)
        image = prepare_image(example.image, self.image_size, self.mean, self.std)
        heatmap = human_map(torch.from_numpy(example.heatmap)[None], self.image_size)[0]
        if self.flip and torch.rand(()) < 0.5:
            image, heatmap = image.flip(-1), heatmap.flip(-1)
        return image, example.label, heatmap, True


def iterate_batches(dataset: Dataset, batch_size: int) -> Iterator[tuple[torch.Tensor, ...]]:
    """(images, labels, maps, has_map) batches of a dataset in order (for evaluation)."""
    for start in range(0, len(dataset), batch_size):
        items = [dataset[i] for i in range(start, min(start + batch_size, len(dataset)))]
        images, labels, maps, has_map = zip(*items, strict=True)
        yield (
            torch.stack(images),
            torch.tensor(labels),
            torch.stack(maps),
            torch.tensor(has_map),
        )
