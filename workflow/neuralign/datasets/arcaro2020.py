"""Arcaro, Ponce & Livingstone (2020): spatially resolved maps of macaque IT responses.

Each of 14 large natural images (16° × 16°) was shown centred at every position of a grid
around the arrays' receptive fields: 17 × 17 positions for Monkey 1 (arrays in the posterior,
PL, and middle, ML, lateral face patches) and 9 × 9 for Monkey 2 (ML), 2° apart (eLife 9:e53798,
Figure 1 and its legend). Every electrode therefore gives a map of its response over each image.
Linsley, Rodriguez et al. (NeurIPS 2023) score models on these maps.

Published files: the Serre lab's ``Arcaro2020.zip`` (``ARCHIVE``; neither a checksum nor a size
is published, so the workflow downloads it with trust on first use) holds one MATLAB file per
monkey and the images it lists (serre-lab/neural_harmonizer
``neural_harmonizer/data/dataset.py``):

- ``George/george_060118_data.mat`` with the images in ``George/natural_test/``;
- ``Red/red_062419_data.mat`` with the images in ``Red/red_naturalface/``.

Each file has ``imageRF``, (grid row, grid column, time, channel, image) responses (no trial
axis, so taken to be averages over trials), and ``UniqueNames``, a 1 × n_images cell array of
image file names (Windows paths in some copies; only the base name is used). George is
Monkey 1 (17 × 17 grid): channels 1-32 are PL, the rest ML. Red is Monkey 2 (9 × 9 grid, ML).
The serre-lab loader splits George at index 33 (``[..., :33]``) while its docstring says
channels 1-32; we follow the docstring.

Conversion: each map is the mean of ``imageRF`` over a time window of samples (the serre-lab
docstring calls the axis "time in ms"; we assume sample ``k`` is ``k`` ms after image onset).
The defaults are the paper's windows, 100-250 ms (Monkey 1) and 150-300 ms (Monkey 2); the
serre-lab tutorial uses 130-170 (George ML) and 90-130 (George PL, Red). Maps are flipped along
both grid axes, as the serre-lab loader does (``[:, ::-1, ::-1]``) so that they line up with
the image: ``maps[..., y, x]`` is the response when image point (y, x) lay over the receptive
field. ``y``/``x`` are in degrees from the image centre, row (down) and column (right)
directions of the image, in the published 2° steps. No trial-level data are published, so there
is no ``responses`` variable, only ``maps``.

``image_path`` values are relative to ``relative_to`` when given (the dataset file's folder, as
the activation rule resolves them), else absolute.
"""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.io
import xarray as xr

import neuralign
from neuralign.io.dataset import DatasetError, copy_images, image_path_values
from neuralign.io.download import RemoteFile

ARCHIVE_URL = "https://storage.googleapis.com/serrelab-public/neural_recordings/Arcaro2020.zip"
ARCHIVE = RemoteFile(ARCHIVE_URL)  # URL from LOADER; no checksum published
LOADER = (
    "https://github.com/serre-lab/neural_harmonizer/blob/785b11a8df6bc15feb59ca2a29f06133f6583712/"
    "neural_harmonizer/data/dataset.py"
)
CITATION = (
    "Arcaro MJ, Ponce C, Livingstone M. The neurons that mistook a hat for a face. eLife "
    "9:e53798 (2020), doi:10.7554/eLife.53798. Maps as used by Linsley D, Rodriguez IF, Fel T, "
    "Arcaro M, Sharma S, Livingstone M, Serre T. Performance-optimized deep neural networks are "
    "evolving into worse models of inferotemporal visual cortex. NeurIPS (2023)"
)
LICENSE = (
    "no data license stated by the publishers; distributed publicly by the Serre lab "
    "(neural_harmonizer, whose code is MIT-licensed); cite the paper"
)
GRID_STEP_DEG = 2.0
IMAGE_SIZE_DEG = 16.0
VARIABLES = ("imageRF", "UniqueNames")


@dataclass(frozen=True)
class Monkey:
    """One monkey's published file, grid and arrays (name, first channel, last channel or None
    for "to the end"; 1-based, inclusive) and default time window (samples, half-open)."""

    label: str
    mat_file: str
    image_folder: str
    grid: int
    arrays: tuple[tuple[str, int, int | None], ...]
    window: tuple[int, int]


MONKEYS: dict[str, Monkey] = {
    "George": Monkey(
        label="Monkey 1",
        mat_file="George/george_060118_data.mat",
        image_folder="George/natural_test",
        grid=17,
        arrays=(("PL", 1, 32), ("ML", 33, None)),
        window=(100, 250),
    ),
    "Red": Monkey(
        label="Monkey 2",
        mat_file="Red/red_062419_data.mat",
        image_folder="Red/red_naturalface",
        grid=9,
        arrays=(("ML", 1, None),),
        window=(150, 300),
    ),
}


def get_monkey(monkey: str) -> Monkey:
    """The table entry of ``monkey``, or DatasetError listing the known ones."""
    try:
        return MONKEYS[monkey]
    except KeyError:
        raise DatasetError(
            f"unknown Arcaro 2020 monkey {monkey!r}; known: {sorted(MONKEYS)}"
        ) from None


def convert_arcaro(
    mat_file: str | os.PathLike,
    monkey: str,
    stimulus_dir: str | os.PathLike,
    image_dir: str | os.PathLike,
    *,
    window: tuple[int, int] | None = None,
    relative_to: str | os.PathLike | None = None,
) -> xr.Dataset:
    """Build the maps dataset of one monkey, copying its images into ``image_dir``.

    ``mat_file`` and ``stimulus_dir`` are the monkey's ``.mat`` file and image folder from the
    extracted archive (``MONKEYS[monkey].mat_file`` / ``.image_folder``). ``window`` is the
    (start, stop) sample range averaged into each map (default: the paper's window).
    """
    info = get_monkey(monkey)
    mat_file, stimulus_dir = Path(mat_file), Path(stimulus_dir)
    window = window or info.window
    image_rf, names = _load_mat(mat_file)
    _check_shape(image_rf, names, info, window, mat_file)
    maps = _maps(image_rf, window)
    sources = _image_files(names, stimulus_dir, mat_file)
    paths = copy_images(sources, image_dir)
    image_paths = image_path_values(paths, relative_to)
    return _dataset(monkey, info, window, maps, names, image_paths, mat_file)


def _load_mat(path: Path) -> tuple[np.ndarray, list[str]]:
    """``imageRF`` and the image base names of ``UniqueNames``; DatasetError if unreadable."""
    try:
        mat = scipy.io.loadmat(path, variable_names=VARIABLES)
    except NotImplementedError as err:
        raise DatasetError(f"{path}: is a MATLAB v7.3 (HDF5) file; expected v5/v7") from err
    except (OSError, ValueError, scipy.io.matlab.MatReadError) as err:
        raise DatasetError(f"{path}: cannot be read as a MATLAB file ({err})") from err
    missing = [name for name in VARIABLES if name not in mat]
    if missing:
        raise DatasetError(f"{path}: variables {missing} are missing")
    names = [_base_name(entry) for entry in np.asarray(mat["UniqueNames"], dtype=object).ravel()]
    return np.asarray(mat["imageRF"]), names


def _base_name(entry) -> str:
    """The file name of a ``UniqueNames`` cell (a path with / or \\ separators)."""
    text = "".join(np.asarray(entry).ravel().astype(str))
    return re.split(r"[\\/]", text)[-1]


def _check_shape(
    image_rf: np.ndarray, names: list[str], info: Monkey, window: tuple[int, int], path: Path
) -> None:
    """DatasetError naming ``path`` unless ``imageRF`` fits the monkey, names and window."""
    expected = f"({info.grid}, {info.grid}, time, channel, image)"
    if image_rf.ndim != 5 or image_rf.shape[:2] != (info.grid, info.grid):
        raise DatasetError(f"{path}: imageRF has shape {image_rf.shape}, expected {expected}")
    if image_rf.shape[4] != len(names):
        raise DatasetError(
            f"{path}: imageRF has {image_rf.shape[4]} images but UniqueNames has {len(names)}"
        )
    if len({Path(name).stem for name in names}) != len(names):
        raise DatasetError(f"{path}: UniqueNames repeats an image name: {names}")
    start, stop = window
    if not 0 <= start < stop <= image_rf.shape[2]:
        raise DatasetError(
            f"{path}: time window {window} does not fit the {image_rf.shape[2]} time samples "
            "of imageRF; pass a window within them"
        )
    needed = max(first for _, first, _ in info.arrays)
    if image_rf.shape[3] < needed:
        raise DatasetError(
            f"{path}: imageRF has {image_rf.shape[3]} channels; the arrays {info.arrays} need "
            f"at least {needed}"
        )


def _maps(image_rf: np.ndarray, window: tuple[int, int]) -> np.ndarray:
    """(image, channel, y, x) float32: the window mean, flipped to image orientation."""
    start, stop = window
    mean = image_rf[:, :, start:stop].mean(axis=2)[::-1, ::-1]
    return np.ascontiguousarray(mean.transpose(3, 2, 0, 1), dtype=np.float32)


def _image_files(names: list[str], stimulus_dir: Path, mat_file: Path) -> list[Path]:
    """The image files ``names`` in ``stimulus_dir``; DatasetError listing any missing."""
    files = [stimulus_dir / name for name in names]
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        raise DatasetError(
            f"{mat_file}: {len(missing)} of the images it lists are missing from "
            f"{stimulus_dir}: {missing}"
        )
    return files


def _grid_degrees(n: int) -> np.ndarray:
    return (np.arange(n) - (n - 1) / 2) * GRID_STEP_DEG


def _neuroids(monkey: str, info: Monkey, n_channels: int) -> dict[str, tuple[str, list]]:
    """Neuroid coords: channel k (1-based) belongs to the array whose range holds it."""
    arrays = np.empty(n_channels, dtype=object)
    for name, first, last in info.arrays:
        arrays[first - 1 : last] = name
    channels = list(range(1, n_channels + 1))
    return {
        "neuroid_id": (
            "neuroid",
            [f"{monkey}_{a}_{c:02d}" for a, c in zip(arrays, channels, strict=True)],
        ),
        "region": ("neuroid", ["IT"] * n_channels),
        "subject": ("neuroid", [monkey] * n_channels),
        "array": ("neuroid", arrays.astype(str)),
        "channel": ("neuroid", channels),
    }


def _dataset(
    monkey: str,
    info: Monkey,
    window: tuple[int, int],
    maps: np.ndarray,
    names: list[str],
    image_paths: list[str],
    mat_file: Path,
) -> xr.Dataset:
    n_images, n_channels, n_y, n_x = maps.shape
    start, stop = window
    return xr.Dataset(
        {"maps": (("stimulus", "neuroid", "y", "x"), maps)},
        coords={
            "stimulus_id": ("stimulus", [Path(name).stem for name in names]),
            "image_path": ("stimulus", image_paths),
            "y": ("y", _grid_degrees(n_y), {"units": "degrees"}),
            "x": ("x", _grid_degrees(n_x), {"units": "degrees"}),
            **_neuroids(monkey, info, n_channels),
        },
        attrs={
            "dataset": f"arcaro2020_{monkey.lower()}",
            "citation": CITATION,
            "license": LICENSE,
            "source": ARCHIVE_URL,
            "source_loader": LOADER,
            "source_file": info.mat_file,
            "source_file_name": mat_file.name,
            "monkey": f"{monkey} ({info.label} in the paper)",
            "arrays": ", ".join(
                f"{name}: channels {first}-{last or n_channels}"
                for name, first, last in info.arrays
            ),
            "description": (
                "Trial-averaged (no trial axis is published) responses of macaque IT face-patch "
                f"sites to natural images shown centred at each of {info.grid} x {info.grid} "
                "grid positions; maps(stimulus, neuroid, y, x) is the mean over the time window, "
                "flipped along both grid axes so that (y, x) is the image point over the "
                "receptive field"
            ),
            "time_window": f"mean of imageRF time samples {start}-{stop} (assumed ms after onset)",
            "time_window_start": start,
            "time_window_stop": stop,
            "grid_size": info.grid,
            "grid_step_deg": GRID_STEP_DEG,
            "image_size_deg": IMAGE_SIZE_DEG,
            "grid_orientation": "flipped along both axes (serre-lab loader convention)",
            "neuralign_version": neuralign.__version__,
        },
    )


def extract_monkey(archive: str | os.PathLike, monkey: str, folder: str | os.PathLike) -> Path:
    """Extract ``monkey``'s ``.mat`` file and image folder from the published ``archive`` into
    ``folder``; the extracted ``.mat`` file (its image folder lies beside it), or DatasetError
    when ``archive`` is no zip archive or does not hold them."""
    info = get_monkey(monkey)
    try:
        with zipfile.ZipFile(archive) as handle:
            members = [
                name
                for name in handle.namelist()
                if name.endswith(info.mat_file) or f"{info.image_folder}/" in name
            ]
            handle.extractall(folder, members)
    except zipfile.BadZipFile as err:
        raise DatasetError(
            f"{archive}: is not a zip archive ({err}); delete it and rerun to download "
            f"{ARCHIVE_URL} again (or point maps.arcaro2020_archive at a copy of it)"
        ) from err
    mat = [path for path in Path(folder).rglob(Path(info.mat_file).name)]
    if not mat:
        raise DatasetError(f"{archive}: holds no {info.mat_file}; is it {ARCHIVE_URL}?")
    return mat[0]


def stimulus_folder(mat_file: str | os.PathLike, monkey: str) -> Path:
    """The image folder of ``monkey`` in the archive extracted around its ``mat_file``."""
    info = get_monkey(monkey)
    return Path(str(mat_file)[: -len(info.mat_file)]) / info.image_folder
