"""A seeded synthetic task with a shortcut, to demonstrate the neural harmonizer on a CPU.

Each image holds a bright shape (the *object*; its form gives the class) in noise at a random
position. In the training set a coloured corner square (the *shortcut*) also gives the
class; in the shortcut-free test set its colour is drawn independently of the class. Human
maps mark the object.
"""

from __future__ import annotations

import torch
from torch.utils.data import TensorDataset

NUM_CLASSES = 4
SIZE = 32
OBJECT = 10
CORNER = 5
COLOURS = torch.tensor([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [1.0, 1.0, 0]])


def shape(label: int, size: int = OBJECT) -> torch.Tensor:
    """A bright (size, size) shape: horizontal bar, vertical bar, cross or frame (classes 0–3)."""
    mask = torch.zeros(size, size)
    middle = slice(size // 2 - 2, size // 2 + 2)
    if label in (0, 2):
        mask[middle, :] = 1.0
    if label in (1, 2):
        mask[:, middle] = 1.0
    if label == 3:
        mask[:2], mask[-2:], mask[:, :2], mask[:, -2:] = 1.0, 1.0, 1.0, 1.0
    return mask


def make_dataset(
    n: int,
    *,
    seed: int,
    shortcut: bool = True,
    map_fraction: float = 0.5,
    contrast: float = 0.5,
    noise: float = 0.3,
) -> TensorDataset:
    """(images (n, 3, 32, 32), labels, human_maps (n, 32, 32), has_map) for the task.

    ``shortcut`` False draws the corner colour independently of the label; ``map_fraction`` of
    the images carry a human map (the others have a zero map and ``has_map`` False).
    """
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(NUM_CLASSES, (n,), generator=generator)
    cues = labels if shortcut else torch.randint(NUM_CLASSES, (n,), generator=generator)
    images = noise * torch.randn(n, 3, SIZE, SIZE, generator=generator)
    maps = torch.zeros(n, SIZE, SIZE)
    corners = torch.randint(CORNER, SIZE - OBJECT + 1, (n, 2), generator=generator)
    shapes = torch.stack([shape(k) for k in range(NUM_CLASSES)])
    for i, (top, left) in enumerate(corners.tolist()):
        rows, cols = slice(top, top + OBJECT), slice(left, left + OBJECT)
        images[i, :, rows, cols] += contrast * shapes[labels[i]]
        maps[i, rows, cols] = 1.0
    images[:, :, :CORNER, :CORNER] = COLOURS[cues][:, :, None, None]
    has_map = torch.rand(n, generator=generator) < map_fraction
    maps[~has_map] = 0.0
    return TensorDataset(images, labels, maps, has_map)


class TinyCNN(torch.nn.Sequential):
    """Three 3×3 convolutions (ReLU; the first two of stride 2), average pooling, a read-out."""

    def __init__(self, num_classes: int = NUM_CLASSES, width: int = 16):
        super().__init__(
            torch.nn.Conv2d(3, width, 3, stride=2, padding=1),
            torch.nn.ReLU(),
            torch.nn.Conv2d(width, 2 * width, 3, stride=2, padding=1),
            torch.nn.ReLU(),
            torch.nn.Conv2d(2 * width, 2 * width, 3, padding=1),
            torch.nn.ReLU(),
            torch.nn.AdaptiveAvgPool2d(1),
            torch.nn.Flatten(),
            torch.nn.Linear(2 * width, num_classes),
        )
