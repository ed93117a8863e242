"""Horikawa & Kamitani (2017) Generic Object Decoding (GOD): human fMRI responses to ImageNet.

Published files: one preprocessed HDF5 file per subject, ``Subject1.h5`` ... ``Subject5.h5``,
on figshare (``SUBJECT_URLS``, from KamitaniLab/GenericObjectDecoding ``data/README.md`` at
commit d8864de, July 2020; neither checksums nor sizes are published there).

File format: bdpy "BData" (KamitaniLab/bdpy ``bdpy/bdata/bdata.py``, ``__save_h5``/
``__load_h5``): ``/dataset`` is a (samples, columns) float array; ``/metadata/key`` (bytes),
``/metadata/description`` and ``/metadata/value``, a (keys, columns) float array, describe the
columns. ``value[k, c] == 1`` marks column ``c`` as belonging to key ``k`` (NaN elsewhere), so
``ROI_V1`` flags the V1 voxel columns and ``DataType`` the single column holding the sample
type; other keys (``voxel_x``...) hold per-column values. Older bdpy files spell the groups
``dataSet``/``metaData``; both are read. Columns used (KamitaniLab/GenericObjectDecoding
``code/python/god_config.py`` and ``analysis_FeaturePrediction.py``):

- ``ROI_V1 ROI_V2 ROI_V3 ROI_V4 ROI_LOC ROI_FFA ROI_PPA ROI_LVC ROI_HVC ROI_VC``: voxel columns;
- ``DataType``: 1 training (perception), 2 test (perception), 3 test (imagery);
- ``stimulus_id``: the image id as ``<synset number>.<image number as 6 decimals>``, e.g.
  1518878.014910 is ``n01518878_14910`` (``data/stimulus_ImageNetTraining.tsv`` and
  ``data/imageID_training.csv`` list the 1200 training and 50 test images, file names
  ``<name>.JPEG``). Files before May 2019 called this column ``Label``;
- ``voxel_x voxel_y voxel_z`` (bdpy's voxel coordinate keys), kept when present.

Conversion: voxels in any requested ROI become neuroids (``region`` 'VC'; one boolean
``roi_<name>`` coord per ROI, since ROIs overlap: LVC/HVC/VC are unions of the others).
Training and test perception samples are grouped by image into ``responses(stimulus, neuroid,
repetition)`` in file order (NaN-padded; the paper shows each training image once and each test
image 35 times), with ``split`` 'train'/'test'; imagery samples (and any other DataType) are
left out and counted in the attrs. Values are the published (preprocessed) voxel values.

The stimulus images are not redistributed (copyright); the authors share them on request
(``IMAGE_REQUEST``). ``image_path`` values are relative to ``relative_to`` when given, else
absolute.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import xarray as xr

import neuralign
from neuralign.dataset import DatasetError, copy_images, image_path_values

FIGSHARE = "https://figshare.com/articles/Generic_Object_Decoding/7387130"
REPOSITORY = "https://github.com/KamitaniLab/GenericObjectDecoding"
IMAGE_REQUEST = "https://forms.gle/ujvA34948Xg49jdn9"
SUBJECT_URLS = {
    f"Subject{k}": f"https://ndownloader.figshare.com/files/{file_id}"
    for k, file_id in enumerate((24080120, 24080123, 24080126, 24080129, 24080132), start=1)
}
CITATION = (
    "Horikawa T, Kamitani Y. Generic decoding of seen and imagined objects using hierarchical "
    "visual features. Nat Commun 8:15037 (2017), doi:10.1038/ncomms15037. Data: "
    f"{FIGSHARE}"
)
LICENSE = (
    f"see the figshare record {FIGSHARE} (not checked here; the authors' code is MIT-licensed); "
    "the stimulus images are not redistributable and are shared by the authors on request"
)
ROIS = ("V1", "V2", "V3", "V4", "LOC", "FFA", "PPA", "LVC", "HVC", "VC")
SPLITS = {1: "train", 2: "test"}
IMAGERY = 3
VOXEL_COORDS = ("voxel_x", "voxel_y", "voxel_z")
IMAGE_SUFFIXES = {".jpeg", ".jpg", ".png"}


@dataclass(frozen=True)
class _BData:
    """A BData file: the (samples, columns) array and its metadata rows by key."""

    dataset: np.ndarray
    metadata: dict[str, np.ndarray]
    path: Path

    def mask(self, key: str) -> np.ndarray:
        """Columns flagged by ``key`` (value 1)."""
        if key not in self.metadata:
            raise DatasetError(
                f"{self.path}: metadata key {key!r} is missing "
                f"(found {sorted(self.metadata)[:20]}...)"
            )
        return self.metadata[key] == 1

    def column(self, key: str) -> np.ndarray:
        """The one dataset column flagged by ``key``."""
        columns = np.flatnonzero(self.mask(key))
        if len(columns) != 1:
            raise DatasetError(f"{self.path}: key {key!r} flags {len(columns)} columns, not 1")
        return self.dataset[:, columns[0]]


def convert_god(
    subject_h5: str | os.PathLike,
    subject: str,
    stimulus_dir: str | os.PathLike | None,
    image_dir: str | os.PathLike,
    *,
    relative_to: str | os.PathLike | None = None,
) -> xr.Dataset:
    """Build the canonical dataset of ``subject`` ('Subject1'...), copying its images into
    ``image_dir``.

    ``stimulus_dir`` holds the images obtained from the authors (any folder layout; files
    named ``<synset>_<image>.JPEG`` or another image suffix); None raises DatasetError
    explaining where to get them.
    """
    if subject not in SUBJECT_URLS:
        raise DatasetError(
            f"{subject_h5}: unknown GOD subject {subject!r}; known: {list(SUBJECT_URLS)}"
        )
    data = _read_bdata(Path(subject_h5))
    datatype = data.column("DataType")
    labels = data.column("stimulus_id")
    memberships = {roi: data.mask(f"ROI_{roi}") for roi in ROIS}
    voxels = np.logical_or.reduce(list(memberships.values()))
    if not voxels.any():
        raise DatasetError(f"{data.path}: no voxel is in any of the ROIs {ROIS}")
    perception = np.isin(datatype, list(SPLITS))
    if not perception.any():
        raise DatasetError(f"{data.path}: no sample has DataType 1 (training) or 2 (test)")
    stimuli = _stimuli(labels[perception], datatype[perception], data.path)
    responses = _by_stimulus(data.dataset[perception][:, voxels], labels[perception], stimuli)
    sources = _image_files(stimuli["name"], stimulus_dir, data.path)
    paths = copy_images(sources, image_dir)
    image_paths = image_path_values(paths, relative_to)
    neuroids = {
        f"roi_{roi}": ("neuroid", member[voxels]) for roi, member in memberships.items()
    } | {
        name: ("neuroid", data.metadata[name][voxels])
        for name in VOXEL_COORDS
        if name in data.metadata
    }
    excluded = {float(t): int((datatype == t).sum()) for t in np.unique(datatype[~perception])}
    return _dataset(
        subject, stimuli, responses, image_paths, np.flatnonzero(voxels), neuroids, excluded
    )


def _read_bdata(path: Path) -> _BData:
    """Read a bdpy HDF5 file; DatasetError naming ``path`` if it does not follow the layout."""
    try:
        with h5py.File(path, "r") as h5:
            dataset = _member(h5, ("dataset", "dataSet"), path)
            group = _member(h5, ("metadata", "metaData"), path)
            parts = {name: _member(group, (name,), path) for name in ("key", "value")}
            array = np.asarray(dataset[()], dtype=float)
            keys = [k.decode() if isinstance(k, bytes) else str(k) for k in parts["key"][()]]
            values = np.asarray(parts["value"][()], dtype=float)
    except OSError as err:
        raise DatasetError(f"{path}: cannot be read as HDF5 ({err})") from err
    if array.ndim != 2 or values.shape != (len(keys), array.shape[1]):
        raise DatasetError(
            f"{path}: dataset has shape {array.shape} and metadata/value {values.shape} for "
            f"{len(keys)} keys; expected (samples, columns) and (keys, columns)"
        )
    return _BData(array, dict(zip(keys, values, strict=True)), path)


def _member(group: h5py.Group, names: tuple[str, ...], path: Path):
    for name in names:
        if name in group:
            return group[name]
    raise DatasetError(f"{path}: '{group.name}' has no {' or '.join(map(repr, names))}")


def image_name(label: float) -> str:
    """ImageNet file stem of a GOD stimulus id: 1518878.01491 -> 'n01518878_14910'."""
    synset = int(np.floor(label))
    image = int(round((label - synset) * 1e6))
    return f"n{synset:08d}_{image}"


def _stimuli(labels: np.ndarray, datatype: np.ndarray, path: Path) -> dict[str, np.ndarray]:
    """Unique perception stimuli, training then test, each sorted by id."""
    ids = np.unique(labels)
    split_of = {}
    for label in ids:
        types = np.unique(datatype[labels == label])
        if len(types) != 1 or not np.isfinite(label) or label <= 0:
            raise DatasetError(
                f"{path}: stimulus_id {label:.6f} is not one image of one split "
                f"(DataType {types.tolist()})"
            )
        split_of[label] = SPLITS[int(types[0])]
    order = sorted(ids, key=lambda label: (split_of[label] != "train", label))
    names = [image_name(label) for label in order]
    if len(set(names)) != len(names) or any(name.endswith("_0") for name in names):
        raise DatasetError(f"{path}: stimulus_id values do not name distinct ImageNet images")
    return {
        "label": np.array(order),
        "name": np.array(names),
        "split": np.array([split_of[label] for label in order]),
        "category": np.array([name.split("_")[0] for name in names]),
    }


def _by_stimulus(values: np.ndarray, labels: np.ndarray, stimuli: dict) -> np.ndarray:
    """(stimulus, neuroid, repetition) float32 from (sample, voxel), in file order per image."""
    codes = pd.Index(stimuli["label"]).get_indexer(labels)
    counts = np.bincount(codes, minlength=len(stimuli["label"]))
    order = np.argsort(codes, kind="stable")
    slots = np.arange(len(order)) - (np.cumsum(counts) - counts)[codes[order]]
    responses = np.full((len(counts), values.shape[1], counts.max()), np.nan, dtype=np.float32)
    responses[codes[order], :, slots] = values[order]
    return responses


def _image_files(names: np.ndarray, stimulus_dir, h5_path: Path) -> list[Path]:
    """The image file of each name under ``stimulus_dir``; DatasetError saying how to get them."""
    how = (
        "the GOD stimulus images are not redistributed; request them from the authors at "
        f"{IMAGE_REQUEST} (see {REPOSITORY}#visual-images) and pass their folder as "
        f"stimulus_dir. Expected files named '<synset>_<image>.JPEG' after stimulus_id, "
        f"e.g. {names[0]}.JPEG"
    )
    if stimulus_dir is None:
        raise DatasetError(f"{h5_path}: no stimulus_dir given; {how}")
    found: dict[str, list[Path]] = {}
    for path in Path(stimulus_dir).rglob("*"):
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            found.setdefault(path.stem, []).append(path)
    missing = [name for name in names if name not in found]
    if missing:
        raise DatasetError(
            f"{h5_path}: {len(missing)} of {len(names)} stimulus images are missing from "
            f"{stimulus_dir}, e.g. {missing[:5]}; {how}"
        )
    repeated = [found[name] for name in names if len(found[name]) > 1]
    if repeated:
        raise DatasetError(f"{stimulus_dir}: several files for one image, e.g. {repeated[0]}")
    return [found[name][0] for name in names]


def _dataset(
    subject: str,
    stimuli: dict,
    responses: np.ndarray,
    image_paths: list[str],
    columns: np.ndarray,
    neuroids: dict,
    excluded: dict[float, int],
) -> xr.Dataset:
    n_voxels = len(columns)
    return xr.Dataset(
        {"responses": (("stimulus", "neuroid", "repetition"), responses)},
        coords={
            "stimulus_id": ("stimulus", stimuli["name"]),
            "image_path": ("stimulus", image_paths),
            "split": ("stimulus", stimuli["split"]),
            "category": ("stimulus", stimuli["category"]),
            "god_stimulus_id": ("stimulus", stimuli["label"]),
            "neuroid_id": ("neuroid", [f"{subject}_col{c:05d}" for c in columns]),
            "region": ("neuroid", ["VC"] * n_voxels),
            "subject": ("neuroid", [subject] * n_voxels),
            "column": ("neuroid", columns),
            **neuroids,
        },
        attrs={
            "dataset": f"god_fmri_{subject.lower()}",
            "citation": CITATION,
            "license": LICENSE,
            "source": FIGSHARE,
            "source_url": SUBJECT_URLS[subject],
            "description": (
                "Human fMRI voxel responses (Generic Object Decoding, preprocessed as published) "
                "to ImageNet images; one entry per presentation in file order, NaN where an "
                "image had fewer presentations; split: 'train' (DataType 1) / 'test' (2); "
                "voxels flagged by roi_<name> coords"
            ),
            "response_kind": "raw_repetitions",
            "rois": " ".join(ROIS),
            "excluded_samples": ", ".join(
                f"DataType {t:g}{' (imagery)' if t == IMAGERY else ''}: {n}"
                for t, n in excluded.items()
            )
            or "none",
            "stimulus_images": f"not redistributable; on request at {IMAGE_REQUEST}",
            "neuralign_version": neuralign.__version__,
        },
    )
