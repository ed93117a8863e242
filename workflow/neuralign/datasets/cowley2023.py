"""Cowley, Stan, Pillow & Smith (2023): macaque V4 spike counts to natural images.

Files come from ``cowleygroup/V4_compact_models`` at a pinned commit (``data_V4_responses/``):
``images/images_<session>.zip`` (``imageNNNN.jpg``, 112×112 RGB, possibly inside a folder),
``responses_repeat_averaged/responses_<session>.npy`` (neurons, images) and
``responses_raw/responses_<session>.npy`` (neurons, images, repeats; NaN-padded). Image ``k`` is
column ``k - 1``. ``SESSIONS`` lists the sessions whose checksums we know; add a session by adding
its files there.

``image_path`` values are relative to ``relative_to`` when given (the dataset file's folder, as
the activation rule resolves them), else absolute.
"""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import xarray as xr

import neuralign
from neuralign.io.archives import extract_zip
from neuralign.io.dataset import DatasetError, image_path_values
from neuralign.io.download import RemoteFile

COMMIT = "f4552ad9d34a466ebc66658f72a08a8e5038f1cf"
REPOSITORY = "https://github.com/cowleygroup/V4_compact_models"
BASE_URL = (
    f"https://raw.githubusercontent.com/cowleygroup/V4_compact_models/{COMMIT}/data_V4_responses"
)
IMAGE_NAME = re.compile(r"image(\d+)\.jpg")
CITATION = (
    "Cowley BR, Stan PL, Pillow JW, Smith MA. Compact deep neural network models of visual "
    "cortex. bioRxiv (2023). Data: github.com/cowleygroup/V4_compact_models"
)


def _file(path: str, sha256: str, size: int) -> RemoteFile:
    return RemoteFile(f"{BASE_URL}/{path}", sha256, size)


@dataclass(frozen=True)
class Session:
    """One recording session: the monkey and the published files we have checksums for."""

    subject: str
    images: RemoteFile
    averaged: RemoteFile
    raw: RemoteFile | None = None

    @property
    def responses(self) -> RemoteFile:
        """The responses file to convert: raw repeats when published, else the averages."""
        return self.raw or self.averaged


SESSIONS: dict[str, Session] = {
    "190923": Session(
        subject="WE",
        images=_file(
            "images/images_190923.zip",
            "e99a4df1c7476bdc4d565ff4408bc421976ecc3a22c41af6bfd0cfbddb508c0c",
            4024034,
        ),
        averaged=_file(
            "responses_repeat_averaged/responses_190923.npy",
            "741672d36541ce39930c8a3b5bd1cfd33c187aa47b1549c9c5569bc21aa97a28",
            316928,
        ),
    ),
    "210224": Session(
        subject="PE",
        images=_file(
            "images/images_210224.zip",
            "e2690810bee34c2e2821e5dd504c7970f3441579bc57659f27d2c11678b52c6b",
            2782116,
        ),
        averaged=_file(
            "responses_repeat_averaged/responses_210224.npy",
            "4dbb7367707a5ca47ab4cea863bbf4e9765b8409cb30216693721bddfad7abfe",
            428928,
        ),
    ),
    "210325": Session(
        subject="PE",
        images=_file(
            "images/images_210325.zip",
            "992774eca3508a2ad01accb1a31f5f3e3d90248c49f4eec314f2a915a263e454",
            1841475,
        ),
        averaged=_file(
            "responses_repeat_averaged/responses_210325.npy",
            "555e67037182611969ab90da291dcc39601de4411f651a64ad60e90572cf59d3",
            256128,
        ),
        raw=_file(
            "responses_raw/responses_210325.npy",
            "4008dbbf31a47d9b1b8d8da609f4a7a3433c7071f0e45c611c220b217dd75b76",
            2560128,
        ),
    ),
}


def get_session(session: str) -> Session:
    """The table entry of ``session``, or DatasetError listing the known sessions."""
    try:
        return SESSIONS[session]
    except KeyError:
        raise DatasetError(
            f"unknown Cowley 2023 session {session!r}; known: {sorted(SESSIONS)} "
            "(add it to neuralign.datasets.cowley2023.SESSIONS with its checksums)"
        ) from None


def convert_cowley(
    session: str,
    image_zip: str | os.PathLike,
    responses_npy: str | os.PathLike,
    image_dir: str | os.PathLike,
    *,
    raw: bool,
    relative_to: str | os.PathLike | None = None,
) -> xr.Dataset:
    """Build the canonical dataset of one session, extracting its images into ``image_dir``.

    ``raw`` says which published file ``responses_npy`` is: the raw repeats (kept as they are,
    NaN padding included) or the repeat averages (one repetition). Both inputs must be the
    published files (checked by sha256; DownloadError otherwise). Folders inside the archive are
    kept under ``image_dir``.
    """
    info = get_session(session)
    published = info.raw if raw else info.averaged
    if published is None:
        raise DatasetError(f"session {session} has no raw responses in SESSIONS; use raw=False")
    image_zip, responses_npy = Path(image_zip), Path(responses_npy)
    published.verify(responses_npy)
    info.images.verify(image_zip)
    responses = _load_responses(responses_npy, raw)
    members = _image_members(image_zip, responses.shape[0], responses_npy)
    extract_zip(image_zip, image_dir)
    paths = [Path(image_dir) / member for member in members]
    image_paths = image_path_values(paths, relative_to)
    return _dataset(session, info, published, responses, image_paths)


def _load_responses(path: Path, raw: bool) -> np.ndarray:
    """(images, neurons, repetitions) float32 from a (neurons, images[, repeats]) .npy file."""
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise DatasetError(f"{path}: cannot be read as a .npy array ({err})") from err
    if array.ndim != (3 if raw else 2):
        kind = "(neurons, images, repeats) for raw" if raw else "(neurons, images) for averaged"
        raise DatasetError(f"{path}: has shape {array.shape}, expected {kind} responses")
    if not raw:
        array = array[..., None]
    return np.ascontiguousarray(array.transpose(1, 0, 2), dtype=np.float32)


def _image_members(archive: Path, n_images: int, responses_npy: Path) -> list[str]:
    """Archive member names of images 1..n_images, in order; DatasetError if any is missing."""
    try:
        with zipfile.ZipFile(archive) as zf:
            names = [m.filename for m in zf.infolist() if not m.is_dir()]
    except zipfile.BadZipFile as err:
        raise DatasetError(f"{archive}: not a valid zip archive ({err})") from err
    numbered: dict[int, str] = {}
    for name in names:
        match = IMAGE_NAME.fullmatch(PurePosixPath(name).name)
        if match:
            number = int(match.group(1))
            if number in numbered:
                raise DatasetError(f"{archive}: image {number} appears twice ({name})")
            numbered[number] = name
    expected = set(range(1, n_images + 1))
    if numbered.keys() != expected:
        missing = sorted(expected - numbered.keys())
        extra = sorted(numbered.keys() - expected)
        raise DatasetError(
            f"{archive}: has {len(numbered)} images but {responses_npy} has {n_images}; "
            f"missing image numbers {missing[:10]}, unexpected {extra[:10]}"
        )
    return [numbered[k] for k in range(1, n_images + 1)]


def _dataset(
    session: str,
    info: Session,
    published: RemoteFile,
    responses: np.ndarray,
    image_paths: list[str],
) -> xr.Dataset:
    n_images, n_neurons, _ = responses.shape
    raw = published is info.raw
    return xr.Dataset(
        {"responses": (("stimulus", "neuroid", "repetition"), responses)},
        coords={
            "stimulus_id": (
                "stimulus",
                [f"{session}_image{k:04d}" for k in range(1, n_images + 1)],
            ),
            "image_path": ("stimulus", image_paths),
            "neuroid_id": ("neuroid", [f"{session}_n{i:03d}" for i in range(n_neurons)]),
            "region": ("neuroid", ["V4"] * n_neurons),
            "subject": ("neuroid", [info.subject] * n_neurons),
        },
        attrs={
            "dataset": f"cowley2023_v4_{session}",
            "citation": CITATION,
            "license": "GPL-3.0",
            "source": f"{REPOSITORY}/tree/{COMMIT}/data_V4_responses",
            "session": session,
            "response_kind": "raw_repetitions" if raw else "repeat_averaged",
            "description": (
                "Macaque V4 spike counts to natural images; "
                + (
                    "one entry per presentation, NaN where an image had fewer repeats"
                    if raw
                    else "responses averaged over repeats (a single repetition)"
                )
            ),
            "time_window": "spike count in one 100 ms bin per presentation",
            "time_window_ms": 100,
            "source_images_url": info.images.url,
            "source_images_sha256": info.images.sha256,
            "source_responses_url": published.url,
            "source_responses_sha256": published.sha256,
            "neuralign_version": neuralign.__version__,
        },
    )
