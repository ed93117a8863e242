"""The dataset stage's workflow jobs: each converts (or simulates) one dataset and writes it."""

from __future__ import annotations

import tempfile
from pathlib import Path

import xarray as xr

from neuralign.datasets.arcaro2020 import ARCHIVE, convert_arcaro, extract_monkey, get_monkey
from neuralign.datasets.arcaro2020 import stimulus_folder as arcaro_stimulus_folder
from neuralign.datasets.cowley2023 import convert_cowley
from neuralign.datasets.kriegeskorte2008 import convert_kriegeskorte
from neuralign.datasets.majajhong2015 import convert_majajhong2015
from neuralign.datasets.simulated.demo import make_demo, make_demo_maps
from neuralign.datasets.user import convert_user_dataset
from neuralign.io.artifacts import write_netcdf
from neuralign.io.dataset import validate_dataset
from neuralign.io.resources import DownloadLock, sha256_file

# The simulated demos: generator, and what the log says of the dataset (format, dimensions).
DEMOS = {
    "responses": (
        make_demo,
        "%d stimuli × %d virtual neurons × %d repetitions",
        ("stimulus", "neuroid", "repetition"),
    ),
    "maps": (
        make_demo_maps,
        "%d images x %d virtual neurons on a %d x %d grid, %d repetitions",
        ("stimulus", "neuroid", "y", "x", "repetition"),
    ),
}


def write_demo_dataset(
    *, dataset_path: str, image_dir: str, options: dict, kind: str, log, provenance: dict
) -> None:
    """Generate the SIMULATED demo dataset ``kind`` (``DEMOS``: "responses" or "maps") and its
    stimulus images."""
    make, summary, dims = DEMOS[kind]
    ds = make(image_dir, relative_to=Path(dataset_path).parent, **options)
    write_netcdf(validate_dataset(ds), dataset_path, provenance)
    log.info("wrote %s: " + summary, dataset_path, *(ds.sizes[dim] for dim in dims))


def write_converted(ds: xr.Dataset, dataset_path: str, provenance: dict) -> None:
    """Validate a converted dataset (errors name ``dataset_path``) and write it."""
    write_netcdf(validate_dataset(ds, dataset_path), dataset_path, provenance)


def write_cowley(
    *,
    session: str,
    image_zip: str,
    responses: str,
    raw: bool,
    dataset_path: str,
    image_dir: str,
    log,
    provenance: dict,
) -> None:
    """Convert one Cowley et al. (2023) V4 session to the canonical dataset format."""
    ds = convert_cowley(
        session, image_zip, responses, image_dir, raw=raw, relative_to=Path(dataset_path).parent
    )
    write_converted(ds, dataset_path, provenance)
    log.info("wrote %s: %s, %s", dataset_path, dict(ds.sizes), ds.attrs["response_kind"])


def write_kriegeskorte(
    *, supplemental: str, brain_rdms: str, dataset_path: str, image_dir: str, log, provenance: dict
) -> None:
    """Convert the Kriegeskorte et al. (2008) 92-image set to an RDM-only dataset."""
    ds = convert_kriegeskorte(
        supplemental, brain_rdms, image_dir, relative_to=Path(dataset_path).parent
    )
    write_converted(ds, dataset_path, provenance)
    log.info("wrote %s: subjects %s", dataset_path, list(ds["subject"].values))


def write_majajhong2015(
    *,
    assembly: str,
    stimulus_csv: str,
    stimulus_zip: str,
    region: str,
    dataset_path: str,
    image_dir: str,
    log,
    provenance: dict,
) -> None:
    """Convert Brain-Score's public MajajHong2015 assembly (one region) to the canonical format."""
    ds = convert_majajhong2015(
        assembly,
        stimulus_csv,
        stimulus_zip,
        image_dir,
        region,
        relative_to=Path(dataset_path).parent,
    )
    write_converted(ds, dataset_path, provenance)
    log.info("wrote %s: %s", dataset_path, dict(ds.sizes))


def write_arcaro(
    *,
    archive: str,
    monkey: str,
    dataset_path: str,
    image_dir: str,
    window,
    lock: str,
    log,
    provenance: dict,
) -> None:
    """Convert one monkey of the published Arcaro 2020 archive (downloaded, or the user's copy),
    verifying the archive first (trust on first use, recorded in ``lock``)."""
    get_monkey(monkey)
    ARCHIVE.verify(archive, lock=DownloadLock(lock))  # trust on first use
    checksum = sha256_file(archive)
    with tempfile.TemporaryDirectory() as tmp:
        mat_file = extract_monkey(archive, monkey, tmp)
        ds = convert_arcaro(
            mat_file,
            monkey,
            arcaro_stimulus_folder(mat_file, monkey),
            image_dir,
            window=tuple(window) if window else None,
            relative_to=Path(dataset_path).parent,
        )
    ds.attrs.update(source_archive=Path(archive).name, source_archive_sha256=checksum)
    write_netcdf(validate_dataset(ds), dataset_path, provenance)
    log.info("wrote %s from %s (sha256 %s)", dataset_path, archive, checksum)


def write_user_dataset(
    *, name: str, spec: dict, dataset_path: str, image_dir: str, log, provenance: dict
) -> None:
    """Convert a dataset declared in config 'user_datasets' to the canonical format (the
    converter validates it)."""
    ds = convert_user_dataset(name, dict(spec), image_dir, relative_to=Path(dataset_path).parent)
    write_netcdf(ds, dataset_path, provenance)
    log.info("wrote %s: %s, %s", dataset_path, dict(ds.sizes), ds.attrs.get("response_kind"))
