"""Arcaro 2020 IT maps: conversion of .mat files in the published layout."""

from pathlib import Path

import numpy as np
import pytest
import scipy.io
import xarray as xr

from neuralign.datasets.arcaro2020 import MONKEYS, convert_arcaro
from neuralign.io.artifacts import write_netcdf
from neuralign.io.dataset import DatasetError

N_TIME = 12
WINDOW = (3, 7)


def write_monkey(
    folder: Path, monkey: str, n_channels: int, n_images: int = 3, grid: int | None = None
):
    """A .mat file like the published one (imageRF, UniqueNames with Windows paths) and its
    image folder; returns (mat path, image folder, imageRF)."""
    info = MONKEYS[monkey]
    grid = grid or info.grid
    rng = np.random.default_rng(0)
    image_rf = rng.normal(size=(grid, grid, N_TIME, n_channels, n_images))
    names = np.empty((1, n_images), dtype=object)
    images = folder / info.image_folder
    images.mkdir(parents=True)
    for k in range(n_images):
        names[0, k] = f"C:\\Users\\lab\\stimuli\\scene{k}.jpg"
        (images / f"scene{k}.jpg").write_bytes(f"image {k}".encode())
    mat = folder / info.mat_file
    scipy.io.savemat(mat, {"imageRF": image_rf, "UniqueNames": names})
    return mat, images, image_rf


@pytest.mark.parametrize(("monkey", "n_channels"), [("George", 34), ("Red", 3)])
def test_values_land_in_the_flipped_cells(tmp_path, monkey, n_channels):
    mat, images, image_rf = write_monkey(tmp_path / "in", monkey, n_channels)
    grid = MONKEYS[monkey].grid
    ds = convert_arcaro(mat, monkey, images, tmp_path / "out", window=WINDOW)

    assert ds["maps"].dims == ("stimulus", "neuroid", "y", "x")
    assert ds["maps"].dtype == np.float32
    assert ds.sizes == {"stimulus": 3, "neuroid": n_channels, "y": grid, "x": grid}
    for s, c, y, x in [(0, 0, 0, 0), (2, n_channels - 1, 1, grid - 1), (1, 1, grid // 2, 3)]:
        expected = image_rf[grid - 1 - y, grid - 1 - x, WINDOW[0] : WINDOW[1], c, s].mean()
        assert ds["maps"].values[s, c, y, x] == pytest.approx(expected, rel=1e-5)
    half = (grid - 1) * 2 / 2
    np.testing.assert_array_equal(ds["y"].values, np.arange(-half, half + 1, 2))
    np.testing.assert_array_equal(ds["x"].values, ds["y"].values)
    assert list(ds["stimulus_id"].values) == ["scene0", "scene1", "scene2"]
    assert set(ds["region"].values) == {"IT"} and set(ds["subject"].values) == {monkey}
    assert ds.attrs["grid_size"] == grid and ds.attrs["grid_step_deg"] == 2.0
    assert ds.attrs["time_window_start"] == 3 and ds.attrs["time_window_stop"] == 7


def test_george_channels_split_into_pl_and_ml(tmp_path):
    mat, images, _ = write_monkey(tmp_path / "in", "George", 34)
    ds = convert_arcaro(mat, "George", images, tmp_path / "out", window=WINDOW)
    arrays = ds["array"].values
    assert list(arrays[:32]) == ["PL"] * 32 and list(arrays[32:]) == ["ML", "ML"]
    assert ds["neuroid_id"].values[0] == "George_PL_01"
    assert ds["neuroid_id"].values[33] == "George_ML_34"


def test_images_are_copied_and_paths_relative(tmp_path):
    mat, images, _ = write_monkey(tmp_path / "in", "Red", 2)
    out = tmp_path / "results"
    ds = convert_arcaro(mat, "Red", images, out / "arcaro_red", window=WINDOW, relative_to=out)
    for k, path in enumerate(ds["image_path"].values):
        assert path == f"arcaro_red/scene{k}.jpg"
        assert (out / path).read_bytes() == f"image {k}".encode()

    write_netcdf(ds, out / "arcaro_red.nc")
    with xr.open_dataset(out / "arcaro_red.nc") as reread:
        np.testing.assert_array_equal(reread["maps"].values, ds["maps"].values)


def test_nan_positions_stay_nan(tmp_path):
    mat, images, image_rf = write_monkey(tmp_path / "in", "Red", 2)
    image_rf[0, 8, 4, :, 1] = np.nan  # grid row 0, column 8 not shown with image 1
    scipy.io.savemat(
        mat, {"imageRF": image_rf, "UniqueNames": scipy.io.loadmat(mat)["UniqueNames"]}
    )
    maps = convert_arcaro(mat, "Red", images, tmp_path / "out", window=WINDOW)["maps"].values
    assert np.isnan(maps[1, :, 8, 0]).all()
    assert np.isfinite(np.delete(maps[1].reshape(2, -1), 8 * 9, axis=1)).all()


def test_missing_variable_names_the_file(tmp_path):
    mat, images, image_rf = write_monkey(tmp_path / "in", "Red", 2)
    scipy.io.savemat(mat, {"imageRF": image_rf})
    with pytest.raises(DatasetError, match=r"red_062419_data\.mat: .*UniqueNames"):
        convert_arcaro(mat, "Red", images, tmp_path / "out", window=WINDOW)


def test_grid_of_the_wrong_monkey_is_refused(tmp_path):
    mat, images, _ = write_monkey(tmp_path / "in", "George", 34, grid=9)
    with pytest.raises(
        DatasetError, match=r"george_060118_data\.mat: imageRF has shape .*\(17, 17"
    ):
        convert_arcaro(mat, "George", images, tmp_path / "out", window=WINDOW)


def test_name_count_must_match_images(tmp_path):
    mat, images, image_rf = write_monkey(tmp_path / "in", "Red", 2)
    names = np.empty((1, 2), dtype=object)
    names[0, :] = ["scene0.jpg", "scene1.jpg"]
    scipy.io.savemat(mat, {"imageRF": image_rf, "UniqueNames": names})
    with pytest.raises(DatasetError, match="imageRF has 3 images but UniqueNames has 2"):
        convert_arcaro(mat, "Red", images, tmp_path / "out", window=WINDOW)


def test_default_window_must_fit_the_time_axis(tmp_path):
    mat, images, _ = write_monkey(tmp_path / "in", "Red", 2)
    with pytest.raises(DatasetError, match=r"time window \(150, 300\) does not fit the 12"):
        convert_arcaro(mat, "Red", images, tmp_path / "out")


def test_missing_image_is_named(tmp_path):
    mat, images, _ = write_monkey(tmp_path / "in", "Red", 2)
    (images / "scene1.jpg").unlink()
    with pytest.raises(DatasetError, match=r"red_062419_data\.mat: 1 of the images.*scene1\.jpg"):
        convert_arcaro(mat, "Red", images, tmp_path / "out", window=WINDOW)
    assert not (tmp_path / "out").exists()


def test_unknown_monkey_lists_known_ones(tmp_path):
    with pytest.raises(DatasetError, match="unknown Arcaro 2020 monkey 'Bob'.*George"):
        convert_arcaro(tmp_path / "x.mat", "Bob", tmp_path, tmp_path / "out")


def test_not_a_mat_file(tmp_path):
    (tmp_path / "x.mat").write_text("not matlab")
    with pytest.raises(DatasetError, match=r"x\.mat: cannot be read as a MATLAB file"):
        convert_arcaro(tmp_path / "x.mat", "Red", tmp_path, tmp_path / "out")
