"""Generic Object Decoding fMRI: conversion of a BData HDF5 file in the published layout."""

from pathlib import Path

import numpy as np
import pytest

from neuralign.datasets.bdata import write_bdata as god_write_bdata
from neuralign.datasets.god_fmri import (
    IMAGE_REQUEST,
    ROIS,
    bdata_layout,
    check_stimulus_dir,
    convert_god,
    image_name,
    stimulus_names,
)
from neuralign.io.artifacts import write_netcdf
from neuralign.io.dataset import DatasetError, open_dataset, validate_dataset

N_VOXELS = 7  # voxel 6 is in no ROI
MEMBERS = {
    "V1": [0, 1],
    "V2": [2],
    "V3": [3],
    "V4": [4],
    "LOC": [5],
    "FFA": [5],
    "PPA": [],
    "LVC": [0, 1, 2, 3, 4],
    "HVC": [5],
    "VC": [0, 1, 2, 3, 4, 5],
}
A, B, C = 1518878.010042, 1518878.012028, 1518878.014075  # training images
D, E = 1443537.022563, 1677366.018182  # test images
SAMPLES = [  # (DataType, Run, stimulus_id) per row, in file order
    (1, 1, A),
    (1, 1, B),
    (1, 2, C),
    (2, 3, D),
    (1, 2, B),
    (2, 3, D),
    (2, 4, E),
    (2, 4, D),
    (2, 5, E),
    (3, 6, 1443537.0),
    (3, 6, 1677366.0),
]
NAMES = {
    A: "n01518878_10042",
    B: "n01518878_12028",
    C: "n01518878_14075",
    D: "n01443537_22563",
    E: "n01677366_18182",
}
ALL_NAMES = tuple(NAMES.values())


def write_bdata(
    path: Path,
    samples=SAMPLES,
    skip_key: str | None = None,
    camel: bool = False,
    voxels: np.ndarray | None = None,
    members: dict[str, list[int]] = MEMBERS,
):
    """A BData file as bdpy's ``BData.save`` writes it (``bdata.write_bdata``): voxels, then
    DataType, Run, stimulus_id columns; sample ``r`` has value ``100 r + v`` in voxel ``v``
    unless ``voxels`` (sample, voxel) are given; ``members`` lists the voxels of each ROI;
    ``skip_key`` leaves one metadata key out."""
    if voxels is None:
        voxels = 100.0 * np.arange(len(samples))[:, None] + np.arange(N_VOXELS)
    coordinates = {
        f"voxel_{axis}": np.arange(voxels.shape[1]) * 3.0 + offset
        for axis, offset in zip("xyz", (0.5, 10.0, -3.0), strict=True)
    }
    dataset, metadata = bdata_layout(voxels, samples, members, coordinates)
    metadata.pop(skip_key, None)
    return god_write_bdata(path, dataset, metadata, camel=camel)


def write_images(folder: Path, names: tuple[str, ...] = ALL_NAMES) -> Path:
    for name in names:
        split = "test" if name.startswith(("n01443537", "n01677366")) else "training"
        (folder / split).mkdir(parents=True, exist_ok=True)
        (folder / split / f"{name}.JPEG").write_bytes(name.encode())
    return folder


def convert(tmp_path, **kwargs):
    h5 = kwargs.pop("h5", None) or write_bdata(tmp_path / "Subject1.h5")
    stimuli = kwargs.pop("stimulus_dir", None) or write_images(tmp_path / "stimuli")
    return convert_god(h5, "Subject1", stimuli, tmp_path / "out", **kwargs)


def test_presentations_are_grouped_by_image_in_file_order(tmp_path):
    ds = convert(tmp_path)
    assert list(ds["stimulus_id"].values) == [NAMES[s] for s in (A, B, C, D, E)]
    assert list(ds["split"].values) == ["train"] * 3 + ["test"] * 2
    assert list(ds["category"].values) == ["n01518878"] * 3 + ["n01443537", "n01677366"]
    assert ds.sizes == {"stimulus": 5, "neuroid": 6, "repetition": 3}
    rows = {A: [0], B: [1, 4], C: [2], D: [3, 5, 7], E: [6, 8]}
    for k, stimulus in enumerate((A, B, C, D, E)):
        values = ds["responses"].values[k]
        for slot in range(3):
            if slot < len(rows[stimulus]):
                np.testing.assert_array_equal(
                    values[:, slot], 100 * rows[stimulus][slot] + np.arange(6)
                )
            else:
                assert np.isnan(values[:, slot]).all()
    assert ds["responses"].dtype == np.float32
    assert "DataType 3 (imagery): 2" in ds.attrs["excluded_samples"]


def test_voxels_carry_roi_membership_and_coordinates(tmp_path):
    ds = convert(tmp_path)
    assert list(ds["column"].values) == list(range(6))
    for roi in ROIS:
        np.testing.assert_array_equal(
            ds[f"roi_{roi}"].values, np.isin(np.arange(6), MEMBERS[roi]), err_msg=roi
        )
        assert ds[f"roi_{roi}"].dtype == bool
    np.testing.assert_array_equal(ds["voxel_y"].values, np.arange(6) * 3.0 + 10.0)
    assert set(ds["region"].values) == {"VC"} and set(ds["subject"].values) == {"Subject1"}
    assert ds["neuroid_id"].values[5] == "Subject1_col00005"


def test_dataset_validates_and_round_trips(tmp_path):
    out = tmp_path / "results"
    ds = convert(tmp_path, relative_to=out)
    write_netcdf(validate_dataset(ds), out / "god.nc")
    reread = open_dataset(out / "god.nc")
    assert reread["roi_FFA"].dtype == bool
    np.testing.assert_array_equal(reread["responses"].values, ds["responses"].values)
    for name, path in zip(reread["stimulus_id"].values, reread["image_path"].values, strict=True):
        assert path == f"../out/{name}.JPEG"
        assert (out / path).read_bytes() == name.encode()


def test_camel_case_bdata_groups_are_read(tmp_path):
    h5 = write_bdata(tmp_path / "Subject1.h5", camel=True)
    assert convert(tmp_path, h5=h5).sizes["stimulus"] == 5


def test_without_stimulus_dir_says_where_to_get_images(tmp_path):
    h5 = write_bdata(tmp_path / "Subject1.h5")
    with pytest.raises(DatasetError) as err:
        convert_god(h5, "Subject1", None, tmp_path / "out")
    message = str(err.value)
    assert "Subject1.h5: no stimulus_dir" in message
    assert IMAGE_REQUEST in message and "n01518878_10042.JPEG" in message


def test_missing_images_are_named(tmp_path):
    stimuli = write_images(tmp_path / "stimuli", ALL_NAMES[:4])
    with pytest.raises(DatasetError, match=r"1 of 5 stimulus images are missing.*n01677366_18182"):
        convert(tmp_path, stimulus_dir=stimuli)
    assert not (tmp_path / "out").exists()


def test_missing_roi_key_names_file_and_key(tmp_path):
    h5 = write_bdata(tmp_path / "Subject1.h5", skip_key="ROI_PPA")
    with pytest.raises(DatasetError, match=r"Subject1\.h5: metadata key 'ROI_PPA' is missing"):
        convert(tmp_path, h5=h5)


def test_old_label_column_is_refused(tmp_path):
    h5 = write_bdata(tmp_path / "Subject1.h5", skip_key="stimulus_id")
    with pytest.raises(DatasetError, match="'stimulus_id' is missing"):
        convert(tmp_path, h5=h5)


def test_image_in_both_splits_is_refused(tmp_path):
    h5 = write_bdata(tmp_path / "Subject1.h5", samples=[*SAMPLES, (1, 7, D)])
    with pytest.raises(DatasetError, match=r"1443537\.022563.*DataType \[1\.0, 2\.0\]"):
        convert(tmp_path, h5=h5)


def test_not_hdf5(tmp_path):
    (tmp_path / "Subject1.h5").write_text("no")
    with pytest.raises(DatasetError, match=r"Subject1\.h5: cannot be read as HDF5"):
        convert(tmp_path, h5=tmp_path / "Subject1.h5")


@pytest.mark.parametrize(
    ("label", "name"),
    [
        (1518878.01491, "n01518878_14910"),
        (1443537.022563, "n01443537_22563"),
        (15102894.1, "n15102894_100000"),
    ],
)
def test_image_names_follow_imagenet_ids(label, name):
    assert image_name(label) == name


def test_stimulus_names_read_only_the_label_columns(tmp_path):
    h5 = write_bdata(tmp_path / "Subject1.h5")
    assert stimulus_names(h5) == [NAMES[s] for s in (A, B, C, D, E)]
    found = check_stimulus_dir(h5, write_images(tmp_path / "stimuli"))
    assert [path.stem for path in found] == [NAMES[s] for s in (A, B, C, D, E)]


def test_check_stimulus_dir_names_missing_images_and_where_to_get_them(tmp_path):
    h5 = write_bdata(tmp_path / "Subject1.h5")
    stimuli = write_images(tmp_path / "stimuli", ALL_NAMES[1:])
    with pytest.raises(DatasetError, match=r"1 of 5 stimulus images are missing") as err:
        check_stimulus_dir(h5, stimuli)
    assert "n01518878_10042" in str(err.value) and IMAGE_REQUEST in str(err.value)
    with pytest.raises(DatasetError, match=r"stimulus_dir .*nowhere is not a folder"):
        check_stimulus_dir(h5, tmp_path / "nowhere")
