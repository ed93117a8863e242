"""ClickMe human feature-importance maps (Linsley et al. 2019), as published for the harmonizer.

The harmonization project (serre-lab/Harmonization, ``harmonization/common/clickme_dataset.py``)
publishes ClickMe as TFRecord shards ``<BASE_URL>/<split>/<split>-<i>.tfrecords`` (its loader
lists 318 training and 17 validation shards, numbered from 0). Each record is a
``tf.train.Example`` with three features:

- ``image``: JPEG bytes of a 256×256 RGB ImageNet image;
- ``heatmap``: JPEG bytes of the 256×256 single-channel ClickMe map (decoded with
  ``decode_jpeg``, reshaped to 256×256×1);
- ``label``: int64, the ImageNet class index (0–999, sorted-wnid order).

``neuralign.datasets.clickme_samples`` turns the records into training samples as the
published code does. No checksums of the shards are published: the workflow downloads them
(``remote_shards``) with trust on first use, or reads shards the user has put in a folder
(``shard_paths``).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from neuralign.io.download import RemoteFile
from neuralign.io.tfrecord import (
    TFRecordError,
    parse_example,
    read_records,
)

BASE_URL = "https://storage.googleapis.com/serrelab/prj_harmonization/dataset/click-me"
N_SHARDS = {"train": 318, "val": 17}
IMAGE_SIZE = 256
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
