"""Majaj, Hong, Solomon & DiCarlo (2015): macaque IT and V4 responses to HvM object images.

The Brain-Score public split, ``dicarlo.MajajHong2015.public`` (HvM variations 0 and 3: 3200
images, 256 sites = 168 IT + 88 V4, 148480 presentations, one 70-170 ms time bin), becomes two
canonical datasets, ``majajhong2015_public_it`` and ``majajhong2015_public_v4``. (Counts: the
assembly repr in brain-score/brainio ``README.md``; 3200 images in brain-score/vision
``benchmarks/majajhong2015/metadata.yaml``; 168/88 sites in ``data/majajhong2015/test.py``.)

Published files and checksums (read in brain-score/vision
``brainscore_vision/data/majajhong2015/__init__.py`` at commit 0d1c38cf, which registers them with
``version_id="null"`` in ``bucket="brainscore-storage/brainio-brainscore"``; brain-score/core
``brainscore_core/supported_data_standards/brainio/s3.py`` (``get_path``) turns that into
``https://brainscore-storage.s3.amazonaws.com/brainio-brainscore/<prefix><identifier>.<ext>``
with prefix ``assy_`` for assemblies and ``stimulus_`` for stimulus sets, dots in the identifier
replaced by ``_``). Brain-Score publishes sha1 digests only, no sha256 and no sizes:

- ``assy_dicarlo_MajajHong2015_public.nc``, sha1 13d28ca0ce88ee550b54db3004374ae19096e9b9;
- ``stimulus_hvm-public.csv``, sha1 5ca7a3da00d8e9c694a9cd725df5ba0ad6d735af;
- ``stimulus_hvm-public.zip``, sha1 8aa44e038d7b551efa8077467622f9d48d72e473.

The same digests are listed for the older locations
``https://brainio.dicarlo.s3.amazonaws.com/assy_dicarlo_MajajHong2015_public.nc`` and
``image_dicarlo_hvm-public.{csv,zip}`` (brain-score/brainio ``brainio-test/brainio_test/
lookup2.csv``; brain-score/brainio_collection ``brainio_collection/lookup.csv``) and
``https://brainio-brainscore.s3.amazonaws.com/`` (brain-score/vision before commit 33414da2).

File formats (brain-score/brainio_collection ``migrations/convert_db_to_csv_20200728.py`` and
``brainio_collection/packaging.py`` at commit 906c36d, which produced these digests):

- the assembly is an xarray DataArray named ``dicarlo.MajajHong2015.public`` written with
  ``reset_index`` on every dim, so all metadata are plain coords: along ``neuroid``
  ``neuroid_id`` (``<animal>_<hemisphere>_<arr>_<row>_<col>``), ``arr``, ``col``,
  ``hemisphere``, ``subregion``, ``animal``, ``x``, ``y``, ``region`` (``IT``/``V4``), ``row``;
  along ``presentation`` ``image_id``, ``repetition``, ``stimulus`` (image metadata were
  stripped because the stimulus set holds them); along ``time_bin`` ``time_bin_start`` and
  ``time_bin_end`` (70, 170). The dims are stored as (neuroid, presentation, time_bin);
- the CSV has one row per image: ``image_id``, ``object_name``, ``category_name``,
  ``variation``, ``image_file_name``, pose columns, and ``filename``, the image's name inside
  the zip (flat, ``<object>_rx..._<background_id>_256x256.png``).

Brain-Score's loaders add ``stimulus_id`` as a copy of ``image_id``; we use ``image_id``.

Excluded sites: Brain-Score drops 40 sites of Tito's posterior array (V4) as erroneous, an
explicit list of neuroid ids (``_filter_erroneous_neuroids`` in brain-score/vision
``brainscore_vision/data/majajhong2015/data_packaging/data_packaging.py``), *before* packaging,
so the public file should not contain them. The converter drops them again wherever present
and records how many it found.

Repetitions: presentations are grouped by ``image_id``; within an image they are ordered by the
published ``repetition`` value (ties keep file order) and fill repetition slots 0, 1, ...;
NaN pads images with fewer presentations. The public benchmarks (``MajajHong2015public.IT-pls``,
``.V4-pls``; brain-score/vision ``brainscore_vision/benchmarks/majajhong2015/benchmark.py``)
average over repetitions and stratify splits by ``object_name``.

``image_path`` values are relative to ``relative_to`` when given (the dataset file's folder, as
the activation rule resolves them), else absolute.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

import neuralign
from neuralign.io.archives import extract_zip
from neuralign.io.dataset import DatasetError, image_path_values
from neuralign.io.download import RemoteFile

REGIONS = ("IT", "V4")
DATASETS = {f"majajhong2015_public_{region.lower()}": region for region in REGIONS}
BUCKET_URL = "https://brainscore-storage.s3.amazonaws.com/brainio-brainscore"
REGISTRATION = (
    "https://github.com/brain-score/vision/blob/0d1c38cf5c687bbae75c79f30e94f88408d6bb51/"
    "brainscore_vision/data/majajhong2015/__init__.py"
)
CITATION = (
    "Majaj NJ, Hong H, Solomon EA, DiCarlo JJ. Simple learned weighted sums of inferior temporal "
    "neuronal firing rates accurately predict human core object recognition performance. "
    "J Neurosci 35(39):13402-13418 (2015), doi:10.1523/JNEUROSCI.5181-14.2015. Data: Brain-Score "
    "'MajajHong2015.public' (Schrimpf et al. 2018, bioRxiv 407007)"
)
LICENSE = (
    "no data license stated by the publishers; distributed publicly by Brain-Score "
    "(whose code is MIT-licensed); cite the paper"
)
ASSEMBLY_VARIABLE = "dicarlo.MajajHong2015.public"
NEUROID_COORDS = ("neuroid_id", "region", "animal")
OPTIONAL_NEUROID_COORDS = {"arr": "array", "subregion": "subregion"}
STIMULUS_COLUMNS = ("image_id", "filename", "object_name", "category_name", "variation")

ERRONEOUS_NEUROIDS = frozenset(
    f"Tito_L_P_{site}"
    for site in (
        "0_3 0_4 0_5 1_0 1_1 1_6 2_8 3_0 3_5 3_8 3_9 4_0 4_1 4_3 4_5 4_6 4_7 4_9 5_0 5_1 "
        "5_4 5_6 5_7 6_3 6_6 6_7 6_8 7_3 7_4 7_5 7_6 7_7 7_8 8_5 9_3 9_5 9_6 9_7 9_8 9_9"
    ).split()
)


ASSEMBLY = RemoteFile(
    f"{BUCKET_URL}/assy_dicarlo_MajajHong2015_public.nc",
    sha1="13d28ca0ce88ee550b54db3004374ae19096e9b9",
)
STIMULUS_CSV = RemoteFile(
    f"{BUCKET_URL}/stimulus_hvm-public.csv", sha1="5ca7a3da00d8e9c694a9cd725df5ba0ad6d735af"
)
STIMULUS_ZIP = RemoteFile(
    f"{BUCKET_URL}/stimulus_hvm-public.zip", sha1="8aa44e038d7b551efa8077467622f9d48d72e473"
)


@dataclass(frozen=True)
class _Recording:
    """One region's sites of the assembly, presentation-major."""

    values: np.ndarray  # (presentation, neuroid) float32
    image_ids: np.ndarray  # (presentation,)
    repetitions: np.ndarray  # (presentation,)
    neuroids: dict[str, np.ndarray]  # canonical neuroid coord name -> values
    time_bin: tuple[int, int]  # (start, end) in ms
    n_excluded: int


def convert_majajhong2015(
    assembly_nc: str | os.PathLike,
    stimulus_csv: str | os.PathLike,
    stimulus_zip: str | os.PathLike,
    image_dir: str | os.PathLike,
    region: str,
    *,
    relative_to: str | os.PathLike | None = None,
) -> xr.Dataset:
    """Build the canonical dataset of ``region`` ('IT' or 'V4'), extracting images to ``image_dir``.

    The three inputs must be the published files (checked by sha1; DownloadError otherwise).
    """
    assembly_nc, stimulus_csv, stimulus_zip = map(Path, (assembly_nc, stimulus_csv, stimulus_zip))
    if region not in REGIONS:
        raise DatasetError(f"{assembly_nc}: region {region!r} is not one of {REGIONS}")
    ASSEMBLY.verify(assembly_nc)
    STIMULUS_CSV.verify(stimulus_csv)
    STIMULUS_ZIP.verify(stimulus_zip)
    stimuli = _read_stimuli(stimulus_csv)
    recording = _read_assembly(assembly_nc, region)
    responses = _by_stimulus(recording, stimuli["image_id"], assembly_nc, stimulus_csv)
    _check_members(stimulus_zip, stimuli["filename"], stimulus_csv)
    extract_zip(stimulus_zip, image_dir)
    paths = [Path(image_dir) / name for name in stimuli["filename"]]
    image_paths = image_path_values(paths, relative_to)
    return _dataset(region, stimuli, recording, responses, image_paths)


def _read_stimuli(path: Path) -> pd.DataFrame:
    """The stimulus CSV in file order; DatasetError if a column is missing or an id repeats."""
    try:
        table = pd.read_csv(path, dtype={"image_id": str, "filename": str})
    except (OSError, ValueError) as err:
        raise DatasetError(f"{path}: cannot be read as CSV ({err})") from err
    missing = [column for column in STIMULUS_COLUMNS if column not in table]
    if missing:
        raise DatasetError(f"{path}: columns {missing} are missing")
    repeated = table["image_id"][table["image_id"].duplicated()]
    if len(repeated):
        raise DatasetError(f"{path}: image_id {repeated.iloc[0]!r} appears more than once")
    return table


def _read_assembly(path: Path, region: str) -> _Recording:
    """The sites of ``region`` minus ERRONEOUS_NEUROIDS, loaded from a brainio netCDF file."""
    try:
        ds = xr.open_dataset(path)
    except (OSError, ValueError) as err:
        raise DatasetError(f"{path}: cannot be read as netCDF ({err})") from err
    with ds:
        assembly = _data_array(ds, path)
        in_region = assembly["region"].values == region
        erroneous = np.isin(assembly["neuroid_id"].values, list(ERRONEOUS_NEUROIDS))
        keep = in_region & ~erroneous
        if not keep.any():
            raise DatasetError(f"{path}: has no {region} sites")
        assembly = assembly.isel(neuroid=keep).load()
    values = assembly.transpose("presentation", "neuroid", "time_bin").values[..., 0]
    neuroids = {name: assembly[name].values for name in NEUROID_COORDS}
    neuroids |= {
        ours: assembly[theirs].values
        for theirs, ours in OPTIONAL_NEUROID_COORDS.items()
        if theirs in assembly.coords
    }
    return _Recording(
        values=values.astype(np.float32, copy=False),
        image_ids=assembly["image_id"].values.astype(str),
        repetitions=assembly["repetition"].values,
        neuroids=neuroids,
        time_bin=(int(assembly["time_bin_start"][0]), int(assembly["time_bin_end"][0])),
        n_excluded=int((in_region & erroneous).sum()),
    )


def _data_array(ds: xr.Dataset, path: Path) -> xr.DataArray:
    """The assembly variable, checked for brainio's dims and the coords we need."""
    if ASSEMBLY_VARIABLE not in ds.data_vars:
        raise DatasetError(
            f"{path}: has no variable {ASSEMBLY_VARIABLE!r} (found {sorted(ds.data_vars)})"
        )
    assembly = ds[ASSEMBLY_VARIABLE]
    if set(assembly.dims) != {"presentation", "neuroid", "time_bin"}:
        raise DatasetError(
            f"{path}: {ASSEMBLY_VARIABLE!r} has dims {assembly.dims}, "
            "expected presentation, neuroid and time_bin"
        )
    if assembly.sizes["time_bin"] != 1:
        raise DatasetError(f"{path}: has {assembly.sizes['time_bin']} time bins, expected one")
    needed = {
        "presentation": ("image_id", "repetition"),
        "neuroid": NEUROID_COORDS,
        "time_bin": ("time_bin_start", "time_bin_end"),
    }
    for dim, names in needed.items():
        for name in names:
            if name not in assembly.coords or assembly[name].dims != (dim,):
                raise DatasetError(f"{path}: coordinate {name!r} along {dim!r} is missing")
    return assembly


def _by_stimulus(
    recording: _Recording, image_ids: pd.Series, assembly_nc: Path, stimulus_csv: Path
) -> np.ndarray:
    """(stimulus, neuroid, repetition) float32 in CSV order, NaN-padded; ids must match."""
    codes = pd.Index(image_ids).get_indexer(recording.image_ids)
    unknown = np.unique(recording.image_ids[codes < 0])
    if len(unknown):
        raise DatasetError(
            f"{assembly_nc}: {len(unknown)} image ids are not in {stimulus_csv}, "
            f"e.g. {unknown[:3].tolist()}"
        )
    counts = np.bincount(codes, minlength=len(image_ids))
    absent = image_ids[counts == 0]
    if len(absent):
        raise DatasetError(
            f"{stimulus_csv}: {len(absent)} images have no presentation in {assembly_nc}, "
            f"e.g. {absent[:3].tolist()}"
        )
    order = np.lexsort((recording.repetitions, codes))
    sorted_codes = codes[order]
    slots = np.arange(len(order)) - (np.cumsum(counts) - counts)[sorted_codes]
    n_neuroids = recording.values.shape[1]
    responses = np.full((len(image_ids), n_neuroids, counts.max()), np.nan, dtype=np.float32)
    responses[sorted_codes, :, slots] = recording.values[order]
    return responses


def _check_members(archive: Path, filenames: pd.Series, stimulus_csv: Path) -> None:
    """DatasetError naming ``archive`` unless it holds every file the CSV lists."""
    try:
        with zipfile.ZipFile(archive) as zf:
            names = set(zf.namelist())
    except zipfile.BadZipFile as err:
        raise DatasetError(f"{archive}: not a valid zip archive ({err})") from err
    missing = [name for name in filenames if name not in names]
    if missing:
        raise DatasetError(
            f"{archive}: {len(missing)} images listed in {stimulus_csv} are missing, "
            f"e.g. {missing[:3]}"
        )


def _dataset(
    region: str,
    stimuli: pd.DataFrame,
    recording: _Recording,
    responses: np.ndarray,
    image_paths: list[str],
) -> xr.Dataset:
    start, end = recording.time_bin
    neuroids = dict(recording.neuroids)
    subjects = neuroids.pop("animal")
    return xr.Dataset(
        {"responses": (("stimulus", "neuroid", "repetition"), responses)},
        coords={
            "stimulus_id": ("stimulus", stimuli["image_id"].to_numpy(str)),
            "image_path": ("stimulus", image_paths),
            "object": ("stimulus", stimuli["object_name"].to_numpy(str)),
            "category": ("stimulus", stimuli["category_name"].to_numpy(str)),
            "variation": ("stimulus", stimuli["variation"].to_numpy()),
            "subject": ("neuroid", subjects.astype(str)),
            **{name: ("neuroid", values) for name, values in neuroids.items()},
        },
        attrs={
            "dataset": f"majajhong2015_public_{region.lower()}",
            "citation": CITATION,
            "license": LICENSE,
            "source": REGISTRATION,
            "brainscore_identifier": "MajajHong2015.public",
            "description": (
                f"Macaque {region} multi-unit sites (Majaj et al. 2015; Brain-Score public split, "
                "HvM variations 0 and 3) responding to object images; values as published; one "
                "entry per presentation, ordered by the published 'repetition', NaN where an "
                "image had fewer presentations"
            ),
            "response_kind": "raw_repetitions",
            "time_window": f"one bin, {start}-{end} ms after image onset",
            "time_bin_start_ms": start,
            "time_bin_end_ms": end,
            "excluded_neuroids": " ".join(sorted(ERRONEOUS_NEUROIDS)),
            "excluded_neuroids_rule": (
                "Brain-Score's list of 40 erroneous sites on Tito's posterior array "
                "(_filter_erroneous_neuroids, brainscore_vision/data/majajhong2015/"
                "data_packaging/data_packaging.py), dropped wherever present"
            ),
            "n_excluded_neuroids": recording.n_excluded,
            "source_assembly_url": ASSEMBLY.url,
            "source_assembly_sha1": ASSEMBLY.sha1,
            "source_stimulus_csv_url": STIMULUS_CSV.url,
            "source_stimulus_csv_sha1": STIMULUS_CSV.sha1,
            "source_stimulus_zip_url": STIMULUS_ZIP.url,
            "source_stimulus_zip_sha1": STIMULUS_ZIP.sha1,
            "neuralign_version": neuralign.__version__,
        },
    )
