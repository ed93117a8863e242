"""MajajHong2015 public: conversion of brainio-format fixture files (and of the real files when
the mirror has them)."""

import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from PIL import Image

from neuralign.datasets import majajhong2015
from neuralign.datasets.majajhong2015 import (
    ERRONEOUS_NEUROIDS,
    convert_majajhong2015,
)
from neuralign.io.artifacts import write_netcdf
from neuralign.io.dataset import DatasetError, open_dataset, validate_dataset
from neuralign.io.download import MIRROR_ENV, RemoteFile
from neuralign.io.resources import DownloadError, file_digest, mirror_path

MIRROR = Path(
    os.environ.get(MIRROR_ENV) or Path(__file__).resolve().parents[2].parent / "shared/mirror"
)

# (image_id, object_name, category_name, variation), in CSV order
IMAGES = [
    ("8a72e2bfdb8c267b57232bf96f069374d5b21832", "car_astra", "Cars", 0),
    ("5cde85cc63e677623c606ebf6d21a6b02a5c14a1", "face0", "Faces", 3),
    ("f78e88d13617e0cd63362559ec9d9f7d88757db8", "apple", "Fruits", 3),
]
# (neuroid_id, region, subregion), in file order: two Tito sites are on Brain-Score's list
NEUROIDS = [
    ("Chabo_L_M_5_9", "IT", "cIT"),
    ("Tito_L_P_8_5", "V4", "V4"),
    ("Chabo_L_P_7_6", "V4", "V4"),
    ("Tito_L_M_8_0", "IT", "pIT"),
    ("Tito_L_P_7_3", "V4", "V4"),
    ("Tito_L_P_2_2", "V4", "V4"),
]
# (image index, repetition), in file order: 2, 3 and 1 presentations, repetitions out of order
PRESENTATIONS = [(1, 0), (0, 7), (2, 0), (1, 1), (0, 3), (1, 2)]


def value(neuroid: int, image: int, repetition: int) -> float:
    return 1000 * neuroid + 10 * image + repetition


POSE = "rx+00.000_ry+00.000_rz+00.000_tx+00.000_ty+00.000_s+01.000"


def filename(image: tuple) -> str:
    """HvM's name pattern: object, pose, background id (here the reversed image id), size."""
    image_id, object_name = image[:2]
    return f"{object_name}_{POSE}_{image_id[::-1]}_256x256.png"


def write_assembly(path: Path, presentations: list[tuple[int, int]]) -> None:
    """A NeuronRecordingAssembly written like brainio: indexes reset, (neuroid, presentation,
    time_bin), the image metadata left to the stimulus set."""
    data = np.array(
        [[[value(n, image, rep)] for image, rep in presentations] for n in range(len(NEUROIDS))],
        dtype=np.float32,
    )
    ids, regions, subregions = (
        np.array(column, dtype=object) for column in zip(*NEUROIDS, strict=True)
    )
    parts = np.array([neuroid_id.split("_") for neuroid_id in ids], dtype=object)
    assembly = xr.DataArray(
        data,
        dims=("neuroid", "presentation", "time_bin"),
        coords={
            "neuroid_id": ("neuroid", ids),
            "arr": ("neuroid", parts[:, 2]),
            "col": ("neuroid", parts[:, 4].astype(int)),
            "hemisphere": ("neuroid", parts[:, 1]),
            "subregion": ("neuroid", subregions),
            "animal": ("neuroid", parts[:, 0]),
            "y": ("neuroid", np.linspace(-1.8, 1.8, len(ids))),
            "x": ("neuroid", np.linspace(1.8, -1.8, len(ids))),
            "region": ("neuroid", regions),
            "row": ("neuroid", parts[:, 3].astype(int)),
            "image_id": (
                "presentation",
                np.array([IMAGES[image][0] for image, _ in presentations], dtype=object),
            ),
            "repetition": ("presentation", [rep for _, rep in presentations]),
            "stimulus": ("presentation", [image for image, _ in presentations]),
            "time_bin_start": ("time_bin", [70]),
            "time_bin_end": ("time_bin", [170]),
        },
        name="dicarlo.MajajHong2015.public",
    )
    levels = {
        dim: [name for name, coord in assembly.coords.items() if coord.dims == (dim,)]
        for dim in assembly.dims
    }
    assembly = assembly.set_index(levels)
    assembly.reset_index(list(assembly.indexes)).to_netcdf(path)


def write_stimulus_csv(path: Path, images: list[tuple]) -> None:
    """hvm-public columns, in the unordered way brainio wrote them, ``filename`` last."""
    poses = ["ty", "tz", "rxy", "rxz", "ryz", "rxy_semantic", "rxz_semantic", "ryz_semantic"]
    rows = [
        {
            "id": k + 1,
            "background_id": image[0][::-1],
            "s": 1.0,
            "image_file_name": filename(image),
            "object_name": image[1],
            "category_name": image[2],
            "variation": image[3],
            **dict.fromkeys(poses, 0.0),
            "size": 256.0,
            "image_id": image[0],
            "filename": filename(image),
        }
        for k, image in enumerate(images)
    ]
    pd.DataFrame(rows).to_csv(path, index=False)


def png(shade: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (4, 4), shade).save(buffer, format="PNG")
    return buffer.getvalue()


def write_stimulus_zip(path: Path, images: list[tuple]) -> None:
    """Flat archive of PNGs named as the CSV's ``filename`` (image k is filled with shade k)."""
    with zipfile.ZipFile(path, "w") as zf:
        for image in images:
            zf.writestr(filename(image), png(IMAGES.index(image)))


def write_sources(
    folder: Path,
    *,
    presentations=PRESENTATIONS,
    csv_images=IMAGES,
    zip_images=IMAGES,
) -> tuple[Path, Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "assy.nc", folder / "stimuli.csv", folder / "stimuli.zip"
    write_assembly(paths[0], presentations)
    write_stimulus_csv(paths[1], csv_images)
    write_stimulus_zip(paths[2], zip_images)
    return paths


def publish(monkeypatch, paths: tuple[Path, Path, Path]) -> None:
    """Make the module accept ``paths`` as the published files."""
    for name, path in zip(("ASSEMBLY", "STIMULUS_CSV", "STIMULUS_ZIP"), paths, strict=True):
        remote = RemoteFile(f"https://example.org/{path.name}", sha1=file_digest(path, "sha1"))
        monkeypatch.setattr(majajhong2015, name, remote)


def convert(tmp_path, monkeypatch, region, *, relative_to=None, **sources):
    paths = write_sources(tmp_path / "in", **sources)
    publish(monkeypatch, paths)
    out = tmp_path / "out"
    return convert_majajhong2015(*paths, out / "images", region, relative_to=relative_to)


def expected(neuroids: list[int]) -> np.ndarray:
    """(stimulus, neuroid, repetition) from PRESENTATIONS, repetitions sorted, NaN-padded."""
    out = np.full((len(IMAGES), len(neuroids), 3), np.nan, dtype=np.float32)
    for image in range(len(IMAGES)):
        reps = sorted(rep for k, rep in PRESENTATIONS if k == image)
        for slot, rep in enumerate(reps):
            out[image, :, slot] = [value(n, image, rep) for n in neuroids]
    return out


@pytest.mark.parametrize(
    ("region", "neuroids", "excluded"),
    [("IT", [0, 3], 0), ("V4", [2, 5], 2)],
)
def test_values_land_in_stimulus_neuroid_repetition_cells(
    tmp_path, monkeypatch, region, neuroids, excluded
):
    ds = convert(tmp_path, monkeypatch, region, relative_to=tmp_path / "out")
    validate_dataset(ds)
    assert ds["responses"].dtype == np.float32
    np.testing.assert_array_equal(ds["responses"].values, expected(neuroids))
    assert list(ds["neuroid_id"].values) == [NEUROIDS[n][0] for n in neuroids]
    assert set(ds["region"].values) == {region}
    assert list(ds["subject"].values) == [NEUROIDS[n][0].split("_")[0] for n in neuroids]
    assert ds.attrs["n_excluded_neuroids"] == excluded
    assert ds.attrs["dataset"] == f"majajhong2015_public_{region.lower()}"
    assert list(ds["stimulus_id"].values) == [image[0] for image in IMAGES]
    assert list(ds["object"].values) == [image[1] for image in IMAGES]
    assert list(ds["category"].values) == [image[2] for image in IMAGES]


def test_excluded_sites_are_brainscores_list():
    assert len(ERRONEOUS_NEUROIDS) == 40
    assert all(neuroid.startswith("Tito_L_P_") for neuroid in ERRONEOUS_NEUROIDS)
    assert {"Tito_L_P_8_5", "Tito_L_P_7_3"} <= ERRONEOUS_NEUROIDS
    assert "Tito_L_P_2_2" not in ERRONEOUS_NEUROIDS


def test_images_and_round_trip(tmp_path, monkeypatch):
    out = tmp_path / "out"
    ds = convert(tmp_path, monkeypatch, "IT", relative_to=out)
    for k, path in enumerate(ds["image_path"].values):
        assert not Path(path).is_absolute()
        assert Path(path).name == filename(IMAGES[k])
        assert (out / path).read_bytes() == png(k)
    write_netcdf(ds, out / "majajhong2015_public_it.nc")
    back = open_dataset(out / "majajhong2015_public_it.nc")
    xr.testing.assert_identical(back, ds)
    assert (back.attrs["time_bin_start_ms"], back.attrs["time_bin_end_ms"]) == (70, 170)


def test_image_paths_are_absolute_without_relative_to(tmp_path, monkeypatch):
    ds = convert(tmp_path, monkeypatch, "V4")
    assert all(
        Path(path).is_absolute() and Path(path).is_file() for path in ds["image_path"].values
    )


def test_missing_image_names_the_archive(tmp_path, monkeypatch):
    with pytest.raises(DatasetError, match=r"stimuli\.zip: 1 images listed in .*stimuli\.csv"):
        convert(tmp_path, monkeypatch, "IT", zip_images=IMAGES[:2])
    assert not (tmp_path / "out/images").exists()


def test_presented_image_missing_from_csv_names_both_files(tmp_path, monkeypatch):
    with pytest.raises(DatasetError, match=r"assy\.nc: 1 image ids are not in .*stimuli\.csv"):
        convert(tmp_path, monkeypatch, "IT", csv_images=IMAGES[:2], zip_images=IMAGES[:2])


def test_image_without_presentation_names_the_csv(tmp_path, monkeypatch):
    presentations = [p for p in PRESENTATIONS if p[0] != 2]
    with pytest.raises(DatasetError, match=r"stimuli\.csv: 1 images have no presentation"):
        convert(tmp_path, monkeypatch, "IT", presentations=presentations)


@pytest.mark.parametrize("region", ["V1", "it"])
def test_unknown_region_names_the_assembly(tmp_path, monkeypatch, region):
    with pytest.raises(DatasetError, match=rf"assy\.nc: region '{region}' is not one of"):
        convert(tmp_path, monkeypatch, region)


def test_region_without_sites_names_the_assembly(tmp_path, monkeypatch):
    paths = write_sources(tmp_path / "in")
    with xr.open_dataset(paths[0]) as ds:
        ds = ds.load()
    ds["region"] = ("neuroid", np.array(["IT"] * len(NEUROIDS), dtype=object))
    ds.to_netcdf(paths[0])
    publish(monkeypatch, paths)
    with pytest.raises(DatasetError, match=r"assy\.nc: has no V4 sites"):
        convert_majajhong2015(*paths, tmp_path / "images", "V4")


def test_csv_without_filename_column_is_named(tmp_path, monkeypatch):
    paths = write_sources(tmp_path / "in")
    pd.read_csv(paths[1]).drop(columns="filename").to_csv(paths[1], index=False)
    publish(monkeypatch, paths)
    with pytest.raises(DatasetError, match=r"stimuli\.csv: columns \['filename'\] are missing"):
        convert_majajhong2015(*paths, tmp_path / "images", "IT")


def test_inputs_must_be_the_published_files(tmp_path, monkeypatch):
    paths = write_sources(tmp_path / "in")
    publish(monkeypatch, paths)
    write_stimulus_csv(paths[1], IMAGES[::-1])
    with pytest.raises(
        DownloadError, match=r"stimuli\.csv: sha1 [0-9a-f]{40} is not the published"
    ):
        convert_majajhong2015(*paths, tmp_path / "images", "IT")


def test_published_table_points_at_brainscore_storage():
    for remote in (
        majajhong2015.ASSEMBLY,
        majajhong2015.STIMULUS_CSV,
        majajhong2015.STIMULUS_ZIP,
    ):
        assert remote.url.startswith("https://brainscore-storage.s3.amazonaws.com/")
        assert len(remote.sha1) == 40


PUBLISHED = [
    MIRROR / mirror_path(remote.url)
    for remote in (majajhong2015.ASSEMBLY, majajhong2015.STIMULUS_CSV, majajhong2015.STIMULUS_ZIP)
]


@pytest.mark.skipif(
    not all(path.is_file() for path in PUBLISHED),
    reason=f"the MajajHong2015 public files are not in the data mirror {MIRROR}",
)
@pytest.mark.parametrize(("region", "n_sites"), [("IT", 168), ("V4", 88)])
def test_published_files_convert(tmp_path, region, n_sites):
    ds = convert_majajhong2015(*PUBLISHED, tmp_path / "images", region, relative_to=tmp_path)
    validate_dataset(ds)
    assert ds.sizes["stimulus"] == 3200 and ds.sizes["neuroid"] == n_sites
    assert ds.attrs["n_excluded_neuroids"] == 0
    assert (ds.attrs["time_bin_start_ms"], ds.attrs["time_bin_end_ms"]) == (70, 170)
    with xr.open_dataset(PUBLISHED[0]) as raw:
        raw = raw["dicarlo.MajajHong2015.public"]
        raw = raw.isel(neuroid=raw["region"].values == region, time_bin=0).load()
    assert raw.sizes["presentation"] == 148480
    means = raw.groupby("image_id").mean("presentation").transpose("image_id", "neuroid")
    means = means.sel(image_id=ds["stimulus_id"].values)
    np.testing.assert_allclose(
        ds["responses"].mean("repetition").values, means.values, rtol=1e-5, atol=1e-5
    )
