"""Horikawa & Kamitani (2017) Generic Object Decoding (GOD): human fMRI responses to ImageNet.

Published files: one preprocessed HDF5 file per subject, ``Subject1.h5`` ... ``Subject5.h5``,
on figshare (``SUBJECT_FILES``: article 7387130 and the file ids of KamitaniLab/
GenericObjectDecoding ``data/README.md`` at commit d8864de00fdf4a7dd44bdb88890d7570490f8fae,
July 2020). Figshare's API lists an md5 and a size per file, which the download verifies
(``neuralign.io.download.FigshareFile``).

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

import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import xarray as xr

import neuralign
from neuralign.datasets.bdata import (
    BData,
    member,
    read_bdata,
)
from neuralign.io.artifacts import write_netcdf
from neuralign.io.dataset import DatasetError, copy_images, image_path_values, validate_dataset
from neuralign.io.download import FigshareFile
from neuralign.io.resources import DownloadLock, sha256_file

FIGSHARE = "https://figshare.com/articles/Generic_Object_Decoding/7387130"
REPOSITORY = "https://github.com/KamitaniLab/GenericObjectDecoding"
IMAGE_REQUEST = "https://forms.gle/ujvA34948Xg49jdn9"
ARTICLE = 7387130
SUBJECT_FILES = {
    f"Subject{k}": FigshareFile(ARTICLE, file_id, f"Subject{k}.h5")
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


def convert_god(
    subject_h5: str | os.PathLike,
    subject: str,
    stimulus_dir: str | os.PathLike | None,
    image_dir: str | os.PathLike,
    *,
    relative_to: str | os.PathLike | None = None,
    simulated: bool | None = None,
) -> xr.Dataset:
    """Build the canonical dataset of ``subject`` ('Subject1'...), copying its images into
    ``image_dir``.

    ``stimulus_dir`` holds the images obtained from the authors (any folder layout; files
    named ``<synset>_<image>.JPEG`` or another image suffix); None raises DatasetError
    explaining where to get them. A file whose root attribute ``simulated`` is set (written by
    ``neuralign.datasets.simulated.fmri``) gives a dataset marked SIMULATED in its attrs;
    ``simulated``
    True/False makes a file that is not / is so marked an error.
    """
    if subject not in SUBJECT_FILES:
        raise DatasetError(
            f"{subject_h5}: unknown GOD subject {subject!r}; known: {list(SUBJECT_FILES)}"
        )
    data = read_bdata(Path(subject_h5))
    if simulated is not None and data.simulated != simulated:
        raise DatasetError(
            f"{data.path}: expected {'a SIMULATED' if simulated else 'a recorded'} GOD file, "
            f"but the file {'is' if data.simulated else 'is not'} marked simulated (root "
            "attribute 'simulated'); check config 'fmri.simulated.enabled' and 'fmri.h5_dir'"
        )
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
    ds = _dataset(
        subject, stimuli, responses, image_paths, np.flatnonzero(voxels), neuroids, excluded
    )
    if data.simulated:
        ds.attrs.update(_simulated_attrs(data.attrs))
    return ds


def _simulated_attrs(file_attrs: Mapping) -> dict:
    """Attrs that replace the published data's provenance for a SIMULATED file."""
    about = str(file_attrs.get("description", "SIMULATED responses"))
    return {
        "simulated": 1,
        "description": (
            "SIMULATED voxel responses (not recorded data; made by "
            f"{file_attrs.get('generator', 'a simulation')}) in the Generic Object Decoding "
            "file layout; one entry per presentation in file order, NaN where an image had "
            "fewer presentations; split: 'train' (DataType 1) / 'test' (2); voxels flagged by "
            f"roi_<name> coords. The file says: {about}"
        ),
        "citation": (
            "SIMULATED: neuralign offline demo (neuralign.datasets.simulated.fmri), in the data "
            "layout of " + CITATION
        ),
        "license": "SIMULATED responses: MIT; images: see the scikit-image data licences",
        "source": f"SIMULATED by {file_attrs.get('generator', 'a simulation')}",
        "source_url": "none (SIMULATED)",
        "stimulus_images": str(
            file_attrs.get("stimulus_images", "SIMULATED stimuli, not ImageNet images")
        ),
        "simulation_seed": int(file_attrs.get("seed", -1)),
    }


def stimulus_names(subject_h5: str | os.PathLike) -> list[str]:
    """ImageNet names of the perception stimuli of a subject file, reading only the metadata
    and the DataType and stimulus_id columns (cheap enough for a check before any job)."""
    path = Path(subject_h5)
    try:
        with h5py.File(path, "r") as h5:
            dataset = member(h5, ("dataset", "dataSet"), path)
            group = member(h5, ("metadata", "metaData"), path)
            keys = [k.decode() if isinstance(k, bytes) else str(k) for k in group["key"][()]]
            values = np.asarray(member(group, ("value",), path)[()], dtype=float)
            metadata = dict(zip(keys, values, strict=True))
            columns = {}
            for key in ("DataType", "stimulus_id"):
                flagged = np.flatnonzero(BData(np.empty((0, 0)), metadata, path).mask(key))
                if len(flagged) != 1:
                    raise DatasetError(f"{path}: key {key!r} flags {len(flagged)} columns, not 1")
                columns[key] = np.asarray(dataset[:, int(flagged[0])], dtype=float)
    except OSError as err:
        raise DatasetError(f"{path}: cannot be read as HDF5 ({err})") from err
    perception = np.isin(columns["DataType"], list(SPLITS))
    stimuli = _stimuli(columns["stimulus_id"][perception], columns["DataType"][perception], path)
    return list(stimuli["name"])


def check_stimulus_dir(subject_h5: str | os.PathLike, stimulus_dir) -> list[Path]:
    """The image file of every perception stimulus of ``subject_h5`` under ``stimulus_dir``;
    DatasetError naming the missing ones and where to request the images."""
    return _image_files(np.array(stimulus_names(subject_h5)), stimulus_dir, Path(subject_h5))


def bdata_layout(
    voxels: np.ndarray,
    samples: np.ndarray,
    members: Mapping[str, Sequence[int]],
    coordinates: Mapping[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The (samples, columns) array and metadata rows of a GOD subject file, as bdpy's
    ``BData`` holds them: the voxel columns (key ``VoxelData``; ``ROI_<roi>`` rows flag the
    voxels of each ROI in ``members``, every ROI of ``ROIS`` gets a row), then one column each
    for ``DataType``, ``Run`` and ``stimulus_id`` (``samples``: (sample, 3) rows of those
    values); ``coordinates`` (e.g. ``voxel_x``) are per-voxel metadata rows."""
    voxels = np.asarray(voxels, dtype=float)
    samples = np.asarray(samples, dtype=float).reshape(len(voxels), 3)
    n_voxels = voxels.shape[1]
    dataset = np.hstack([voxels, samples])
    n_cols = dataset.shape[1]

    def flags(columns) -> np.ndarray:
        row = np.full(n_cols, np.nan)
        row[columns] = 1
        return row

    def per_voxel(values) -> np.ndarray:
        return np.concatenate([np.asarray(values, dtype=float), np.full(3, np.nan)])

    rows = {"VoxelData": flags(np.arange(n_voxels))}
    for roi in ROIS:
        member = np.isin(np.arange(n_voxels), list(members.get(roi, [])))
        rows[f"ROI_{roi}"] = per_voxel(member.astype(float))
    for name, values in (coordinates or {}).items():
        rows[name] = per_voxel(values)
    for k, key in enumerate(("DataType", "Run", "stimulus_id")):
        rows[key] = flags([n_voxels + k])
    return dataset, rows


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
    if not Path(stimulus_dir).is_dir():
        raise DatasetError(f"{h5_path}: the stimulus_dir {stimulus_dir} is not a folder; {how}")
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
            "source_url": SUBJECT_FILES[subject].url,
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
            "simulated": 0,
            "neuralign_version": neuralign.__version__,
        },
    )


def write_god_dataset(
    *,
    subject_h5: str,
    subject: str,
    stimulus_dir: str,
    dataset_path: str,
    image_dir: str,
    log,
    provenance: dict,
    simulated: bool | None = None,
    lock: str | None = None,
) -> None:
    """The conversion job of one subject (``convert_god``), the sha256 of its source file and
    stimulus images in the attrs; ``lock``: the trust-on-first-use lock of the published file."""
    if lock:  # the published file, pinned by trust on first use
        SUBJECT_FILES[subject].verify(subject_h5, lock=DownloadLock(lock))
    root = Path(dataset_path).parent
    ds = convert_god(
        subject_h5, subject, stimulus_dir, image_dir, relative_to=root, simulated=simulated
    )
    images = hashlib.sha256()
    for path in ds["image_path"].values:
        images.update(sha256_file(root / path).encode())
    ds.attrs.update(
        source_file=str(subject_h5),
        source_sha256=sha256_file(subject_h5),
        stimulus_dir=str(stimulus_dir),
        stimulus_images_sha256=images.hexdigest(),
        stimulus_images_sha256_about="sha256 over the sha256 hex digests of the images in "
        "stimulus order",
    )
    write_netcdf(validate_dataset(ds, dataset_path), dataset_path, provenance)
    split = ds["split"].values
    log.info(
        "wrote %s%s: %d voxels, %d training and %d test images, source sha256 %s",
        dataset_path,
        " (SIMULATED)" if ds.attrs["simulated"] else "",
        ds.sizes["neuroid"],
        (split == "train").sum(),
        (split == "test").sum(),
        ds.attrs["source_sha256"],
    )
