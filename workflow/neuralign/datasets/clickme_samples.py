"""ClickMe records (``neuralign.datasets.clickme``) as torch samples for the harmonizer.

The published evaluation resizes the image to 224 (bilinear) and prepares the map by resizing
it to 64×64 (bilinear), blurring it with a 10×10 Gaussian (σ = 10, "SAME" zero padding) and
resizing it to the image size; ``human_map`` does the same.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from neuralign.datasets.clickme import ClickMeExample, decode_example
from neuralign.io.tfrecord import parse_example, read_record_at, record_offsets

MAP_BLUR_SIZE = 64
BLUR_KERNEL = 10
BLUR_SIGMA = 10.0


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
