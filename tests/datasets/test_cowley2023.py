"""Cowley 2023 V4 sessions: conversion from the published files, checked against the sources."""

import os
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np
import pytest

from neuralign.datasets import cowley2023
from neuralign.datasets.cowley2023 import Session, convert_cowley
from neuralign.io.artifacts import write_netcdf
from neuralign.io.dataset import DatasetError, open_dataset, validate_dataset
from neuralign.io.download import MIRROR_ENV, RemoteFile
from neuralign.io.resources import DownloadError, sha256_file

MIRROR = Path(
    os.environ.get(MIRROR_ENV) or Path(__file__).resolve().parents[2].parent / "shared/mirror"
)
needs_mirror = pytest.mark.skipif(
    not MIRROR.is_dir(), reason=f"data mirror {MIRROR} is absent (set {MIRROR_ENV})"
)


def fetch(remote: RemoteFile, folder: Path) -> Path:
    return remote.fetch(folder / remote.url.rsplit("/", 1)[1], mirror=MIRROR, progress=False)


@needs_mirror
@pytest.mark.parametrize(
    ("session", "subject", "kind"),
    [
        ("190923", "WE", "repeat_averaged"),
        ("210325", "PE", "raw_repetitions"),
    ],
)
def test_converted_session_equals_source(tmp_path, session, subject, kind):
    info = cowley2023.SESSIONS[session]
    image_zip = fetch(info.images, tmp_path / "resources")
    responses_npy = fetch(info.responses, tmp_path / "resources")
    out = tmp_path / "results"
    converted = convert_cowley(
        session, image_zip, responses_npy, out / session, raw=info.raw is not None, relative_to=out
    )
    write_netcdf(validate_dataset(converted), out / f"{session}.nc")
    ds = open_dataset(out / f"{session}.nc")

    source = np.load(responses_npy)
    if source.ndim == 2:
        source = source[..., None]
    assert ds["responses"].dtype == np.float32
    np.testing.assert_array_equal(
        ds["responses"].values.transpose(1, 0, 2), source.astype(np.float32)
    )
    assert np.isnan(ds["responses"].values).sum() == np.isnan(source).sum()
    assert ds.attrs["response_kind"] == kind
    assert set(ds["subject"].values) == {subject} and set(ds["region"].values) == {"V4"}
    assert ds.attrs["source_responses_sha256"] == sha256_file(responses_npy)

    with zipfile.ZipFile(image_zip) as zf:
        members = {PurePosixPath(m).name: m for m in zf.namelist()}
        for k, path in enumerate(ds["image_path"].values, start=1):
            assert not Path(path).is_absolute()
            assert Path(path).name == f"image{k:04d}.jpg"
            assert (out / path).read_bytes() == zf.read(members[Path(path).name])


def fake_session(folder: Path, names: list[str], n_images: int) -> Session:
    """A tiny session (2 neurons) whose zip holds ``names`` (image k holds the bytes b'k')."""
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(folder / "images.zip", "w") as zf:
        for name in names:
            zf.writestr(name, PurePosixPath(name).stem.removeprefix("image").lstrip("0"))
    np.save(folder / "responses.npy", np.arange(2 * n_images, dtype=float).reshape(2, n_images))

    def remote(name: str) -> RemoteFile:
        path = folder / name
        return RemoteFile(f"https://example.org/{name}", sha256_file(path), path.stat().st_size)

    return Session("XX", images=remote("images.zip"), averaged=remote("responses.npy"))


def convert_fake(tmp_path, monkeypatch, names, n_images, **kwargs):
    monkeypatch.setitem(cowley2023.SESSIONS, "fake", fake_session(tmp_path / "in", names, n_images))
    return convert_cowley(
        "fake",
        tmp_path / "in/images.zip",
        tmp_path / "in/responses.npy",
        tmp_path / "images",
        raw=False,
        **kwargs,
    )


def test_stimulus_order_follows_image_numbers_not_archive_order(tmp_path, monkeypatch):
    names = [
        "set/image0003.jpg",
        "set/image0001.jpg",
        "__MACOSX/set/._image0002.jpg",
        "set/image0002.jpg",
    ]
    ds = convert_fake(tmp_path, monkeypatch, names, 3)
    assert [Path(p).read_text() for p in ds["image_path"].values] == ["1", "2", "3"]
    assert all(Path(p).is_absolute() for p in ds["image_path"].values)
    np.testing.assert_array_equal(ds["responses"].values[:, :, 0], [[0, 3], [1, 4], [2, 5]])
    assert list(ds["stimulus_id"].values) == ["fake_image0001", "fake_image0002", "fake_image0003"]


@pytest.mark.parametrize(
    "names",
    [
        ["image0001.jpg", "image0002.jpg"],
        ["image0001.jpg", "image0002.jpg", "image0004.jpg"],
        ["image0001.jpg", "image0002.jpg", "image0003.jpg", "image0004.jpg"],
        ["image0001.jpg", "image0002.jpg", "image0003.jpg", "a/image0003.jpg"],
    ],
)
def test_missing_or_extra_images_name_the_archive(tmp_path, monkeypatch, names):
    with pytest.raises(DatasetError, match="images.zip"):
        convert_fake(tmp_path, monkeypatch, names, 3)
    assert not (tmp_path / "images").exists()


def test_inputs_must_be_the_published_files(tmp_path, monkeypatch):
    monkeypatch.setitem(
        cowley2023.SESSIONS, "fake", fake_session(tmp_path / "in", ["image0001.jpg"], 1)
    )
    np.save(tmp_path / "in/responses.npy", np.zeros((2, 1)))
    with pytest.raises(DownloadError, match="responses.npy: sha256"):
        convert_cowley(
            "fake",
            tmp_path / "in/images.zip",
            tmp_path / "in/responses.npy",
            tmp_path / "images",
            raw=False,
        )


def test_raw_needs_a_session_with_raw_repeats(tmp_path):
    with pytest.raises(DatasetError, match="190923 has no raw responses"):
        convert_cowley("190923", tmp_path / "a.zip", tmp_path / "b.npy", tmp_path, raw=True)


def test_unknown_session_lists_known_ones(tmp_path):
    with pytest.raises(DatasetError, match="unknown Cowley 2023 session '999999'.*210325"):
        convert_cowley("999999", tmp_path / "a.zip", tmp_path / "b.npy", tmp_path, raw=False)
