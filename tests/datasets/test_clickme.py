"""Tests of the ClickMe reader and the ImageNet-folder reader on files in the published layouts."""

import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import ConcatDataset, DataLoader

from neuralign.datasets import clickme, clickme_samples
from neuralign.io import tfrecord as tr
from neuralign.io.imagefolder import ImageFolderDataset, find_samples, imagenet_wnids
from neuralign.models.loading import load_model


def jpeg(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG", quality=100)
    return buffer.getvalue()


def fake_example(seed: int, size: int = 256) -> tuple[np.ndarray, np.ndarray, int]:
    """A smooth RGB image, a blob heatmap and a label (JPEG survives them nearly intact)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:size, :size] / size
    image = np.stack([x, y, (x + y) / 2], -1) * rng.uniform(100, 250, 3)
    cy, cx = rng.uniform(0.2, 0.8, 2)
    heatmap = 255 * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / 0.02)
    return image.astype(np.uint8), heatmap.astype(np.uint8), int(rng.integers(1000))


def write_shards(folder, split="val", counts=(3, 2)):
    """Shards in the published layout: <split>-<i>.tfrecords of image/heatmap/label examples."""
    folder.mkdir(exist_ok=True)
    truth = []
    for shard, count in enumerate(counts):
        examples = []
        for _ in range(count):
            image, heatmap, label = fake_example(len(truth))
            truth.append((image, heatmap, label))
            examples.append({"image": jpeg(image), "heatmap": jpeg(heatmap), "label": label})
        tr.write_examples(folder / f"{split}-{shard}.tfrecords", examples)
    return truth


def test_published_facts():
    assert clickme.shard_url("val", 3) == (
        "https://storage.googleapis.com/serrelab/prj_harmonization/dataset/click-me/val/"
        "val-3.tfrecords"
    )
    assert clickme.N_SHARDS == {"train": 318, "val": 17}
    with pytest.raises(ValueError, match="split 'test' unknown"):
        clickme.shard_url("test", 0)


def test_reads_fixture_shards(tmp_path):
    truth = write_shards(tmp_path / "val", counts=(3, 2, 1))
    (tmp_path / "val" / "val-10.tfrecords").write_bytes(b"")  # sorted numerically
    paths = clickme.shard_paths(tmp_path / "val", "val")
    assert [p.name for p in paths] == [f"val-{i}.tfrecords" for i in (0, 1, 2, 10)]
    examples = list(clickme.read_clickme(paths))
    assert len(examples) == 6
    for example, (image, heatmap, label) in zip(examples, truth, strict=True):
        assert example.label == label
        assert example.image.shape == (256, 256, 3) and example.image.dtype == np.uint8
        assert example.heatmap.shape == (256, 256) and example.heatmap.dtype == np.float32
        assert np.abs(example.image.astype(int) - image).mean() < 2
        assert np.abs(example.heatmap - heatmap).mean() < 2


def test_reads_hand_built_clickme_record(tmp_path):
    """One record encoded by hand (no writer): image and heatmap bytes, label 5."""
    image, heatmap = jpeg(np.full((8, 8, 3), 100, np.uint8)), jpeg(np.full((8, 8), 7, np.uint8))

    def entry(key: bytes, feature: bytes) -> bytes:
        body = b"\x0a" + bytes([len(key)]) + key + b"\x12" + varint(len(feature)) + feature
        return b"\x0a" + varint(len(body)) + body

    def varint(n: int) -> bytes:
        out = b""
        while n >= 0x80:
            out, n = out + bytes([n & 0x7F | 0x80]), n >> 7
        return out + bytes([n])

    def bytes_feature(value: bytes) -> bytes:
        inner = b"\x0a" + varint(len(value)) + value
        return b"\x0a" + varint(len(inner)) + inner

    features = (
        entry(b"image", bytes_feature(image))
        + entry(b"heatmap", bytes_feature(heatmap))
        + entry(b"label", b"\x1a\x02\x08\x05")  # int64_list, unpacked value 5
    )
    example = b"\x0a" + varint(len(features)) + features
    (tmp_path / "val-0.tfrecords").write_bytes(tr.frame_record(example))
    (decoded,) = clickme.read_clickme([tmp_path / "val-0.tfrecords"])
    assert decoded.label == 5
    assert np.abs(decoded.image.astype(int) - 100).max() <= 1
    assert np.abs(decoded.heatmap - 7).max() <= 1


def test_bad_shards_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="holds no val-<i>.tfrecords"):
        clickme.shard_paths(tmp_path, "val")
    tr.write_examples(tmp_path / "val-0.tfrecords", [{"image": b"notjpeg", "heatmap": b"x"}])
    with pytest.raises(tr.TFRecordError, match=r"val-0\.tfrecords: record 0: no feature"):
        list(clickme.read_clickme([tmp_path / "val-0.tfrecords"]))
    tr.write_examples(
        tmp_path / "val-1.tfrecords", [{"image": b"notjpeg", "heatmap": b"x", "label": 1}]
    )
    with pytest.raises(tr.TFRecordError, match=r"val-1\.tfrecords: record 0: image cannot"):
        list(clickme.read_clickme([tmp_path / "val-1.tfrecords"]))


def test_blur_kernel_and_human_map_follow_published_recipe():
    kernel = clickme_samples.blur_kernel().double().numpy()
    # Published: meshgrid of x = -5..4 (columns) and y = 4..-5 (rows), σ = 10, sum 1.
    xs, ys = np.meshgrid(np.arange(-5, 5), np.arange(4, -6, -1))
    expected = np.exp(-(xs**2 + ys**2) / 200.0)
    np.testing.assert_allclose(kernel, expected / expected.sum(), rtol=1e-6)

    heatmap = torch.from_numpy(fake_example(3)[1].astype(np.float32))
    result = clickme_samples.human_map(heatmap[None], 32)[0].double().numpy()
    small = F.interpolate(heatmap[None, None], size=(64, 64), mode="bilinear")[0, 0].double()
    padded = np.pad(small.numpy(), ((4, 5), (4, 5)))  # TF "SAME" for a 10-wide kernel
    blurred = np.array(
        [[(padded[i : i + 10, j : j + 10] * kernel).sum() for j in range(64)] for i in range(64)]
    )
    reference = F.interpolate(torch.from_numpy(blurred)[None, None], size=(32, 32), mode="bilinear")
    np.testing.assert_allclose(result, reference[0, 0].numpy(), rtol=1e-4, atol=1e-3)


def test_dataset_batches_for_training(tmp_path):
    write_shards(tmp_path, counts=(3, 2))
    paths = clickme.shard_paths(tmp_path, "val")
    data = clickme_samples.ClickMeDataset(paths, image_size=32, mean=(0.5,) * 3, std=(0.25,) * 3)
    assert len(data) == 5
    image, label, heatmap, has_map = data[4]
    assert image.shape == (3, 32, 32) and heatmap.shape == (32, 32) and has_map is True
    raw = data.example(4)
    expected = F.interpolate(
        torch.from_numpy(raw.image).permute(2, 0, 1)[None].float() / 255,
        size=(32, 32),
        mode="bilinear",
    )[0]
    torch.testing.assert_close(image, (expected - 0.5) / 0.25)
    batch = next(iter(DataLoader(data, batch_size=4)))
    assert [tuple(t.shape) for t in batch] == [(4, 3, 32, 32), (4,), (4, 32, 32), (4,)]
    assert batch[3].dtype == torch.bool and batch[3].all()
    assert len(clickme_samples.ClickMeDataset(paths, image_size=32, max_images=2)) == 2
    flipped = clickme_samples.ClickMeDataset(paths, image_size=32, mean=(0.5,) * 3, std=(0.25,) * 3)
    flipped.flip = True
    torch.manual_seed(0)
    flips = [torch.equal(flipped[4][0], image.flip(-1)) for _ in range(20)]
    assert 0 < sum(flips) < 20


def test_imagenet_folder_mixes_with_clickme(tmp_path):
    root = tmp_path / "train"
    for wnid, seed in (("n01443537", 0), ("n01440764", 1), ("n01440764", 2)):
        (root / wnid).mkdir(parents=True, exist_ok=True)
        Image.fromarray(fake_example(seed, size=80)[0]).save(root / wnid / f"{wnid}_{seed}.JPEG")
    (root / "n01440764" / "notes.txt").write_text("not an image")
    classes, samples = find_samples(root)
    assert classes == ["n01440764", "n01443537"]
    assert [(p.name, label) for p, label in samples] == [
        ("n01440764_1.JPEG", 0),
        ("n01440764_2.JPEG", 0),
        ("n01443537_0.JPEG", 1),
    ]
    wnids = imagenet_wnids()
    assert len(wnids) == 1000 and wnids == sorted(wnids) and wnids[1] == "n01443537"
    config = load_model("timm-untrained:resnet10t").data_config
    images = ImageFolderDataset(root, config, image_size=32, classes=wnids)
    image, label, heatmap, has_map = images[2]
    assert image.shape == (3, 32, 32) and label == 1 and has_map is False
    assert torch.equal(heatmap, torch.zeros(32, 32))
    with pytest.raises(ValueError, match="not known classes"):
        find_samples(root, classes=["n01440764"])

    write_shards(tmp_path / "clickme", counts=(2,))
    maps = clickme_samples.ClickMeDataset(
        clickme.shard_paths(tmp_path / "clickme", "val"),
        image_size=32,
        mean=config["mean"],
        std=config["std"],
    )
    mixed = DataLoader(ConcatDataset([maps, images]), batch_size=5)
    _, labels, human, has = next(iter(mixed))
    assert has.tolist() == [True, True, False, False, False]
    assert labels[2:].tolist() == [0, 0, 1] and human[2:].abs().sum() == 0
