"""Kriegeskorte 2008 RDM-only dataset: conversion and netCDF round trip against the .mat files."""

import os
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from PIL import Image
from scipy.spatial.distance import squareform

from neuralign.datasets.kriegeskorte2008 import BRAIN_RDMS, SUPPLEMENTAL, convert_kriegeskorte
from neuralign.io.artifacts import write_netcdf
from neuralign.io.dataset import open_dataset, validate_dataset
from neuralign.io.download import MIRROR_ENV
from neuralign.io.resources import DownloadError

MIRROR = Path(
    os.environ.get(MIRROR_ENV) or Path(__file__).resolve().parents[2].parent / "shared/mirror"
)
pytestmark = pytest.mark.skipif(
    not MIRROR.is_dir(), reason=f"data mirror {MIRROR} is absent (set {MIRROR_ENV})"
)


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    folder = tmp_path_factory.mktemp("resources")
    return (
        SUPPLEMENTAL.fetch(folder / "supplemental.mat", mirror=MIRROR, progress=False),
        BRAIN_RDMS.fetch(folder / "brain_rdms.mat", mirror=MIRROR, progress=False),
    )


@pytest.fixture(scope="module")
def converted(sources, tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    ds = convert_kriegeskorte(*sources, out / "kriegeskorte2008", relative_to=out)
    write_netcdf(validate_dataset(ds), out / "kriegeskorte2008.nc")
    return ds, open_dataset(out / "kriegeskorte2008.nc"), out


def test_round_trip_keeps_everything(converted):
    ds, reopened, _ = converted
    np.testing.assert_array_equal(reopened["rdm"].values, ds["rdm"].values)
    for coord in (
        "subject",
        "level",
        "species",
        "stimulus_id",
        "image_path",
        "category",
        "category_label",
        "category_member",
    ):
        np.testing.assert_array_equal(reopened[coord].values, ds[coord].values)
    assert reopened["category_member"].dtype == bool
    assert reopened.attrs["dataset"] == "kriegeskorte2008_92"


def test_rdms_match_the_sources(converted, sources):
    _, ds, _ = converted
    supplemental = scipy.io.loadmat(sources[0], squeeze_me=True)
    fig1 = {str(e["name"]): e["RDM"] for e in supplemental["RDMs_mIT_hIT_fig1"]}
    sessions = scipy.io.loadmat(sources[1], squeeze_me=True)["RDMs"]
    assert list(ds["subject"].values) == [
        "monkey_IT",
        "human_IT",
        "human_IT_BE",
        "human_IT_KO",
        "human_IT_SN",
        "human_IT_TI",
    ]
    np.testing.assert_array_equal(
        ds["rdm"].sel(subject="monkey_IT"), squareform(fig1["mIT_674neurons"])
    )
    np.testing.assert_array_equal(
        ds["rdm"].sel(subject="human_IT"), squareform(fig1["hITvisStim_316vx"])
    )
    be = (sessions[0, 0]["RDM"].astype(float) + sessions[0, 1]["RDM"].astype(float)) / 2
    np.testing.assert_allclose(ds["rdm"].sel(subject="human_IT_BE"), be, rtol=0, atol=1e-15)
    individuals = ds["rdm"].where(ds["level"] == "individual", drop=True)
    np.testing.assert_allclose(
        individuals.mean("subject"), ds["rdm"].sel(subject="human_IT"), rtol=0, atol=1e-12
    )
    rdm = ds["rdm"].values
    assert np.array_equal(rdm, rdm.transpose(0, 2, 1))
    assert not rdm[:, np.arange(92), np.arange(92)].any()


def test_images_and_categories_match_the_sources(converted, sources):
    _, ds, out = converted
    stimuli = scipy.io.loadmat(sources[0], squeeze_me=True)["stimuli_92objs"]
    for k, (path, stimulus) in enumerate(zip(ds["image_path"].values, stimuli, strict=True), 1):
        assert path == f"kriegeskorte2008/image{k:02d}.png"
        np.testing.assert_array_equal(np.asarray(Image.open(out / path)), stimulus["image"])
    assert list(ds["category"].values) == [str(s["category"]) for s in stimuli]
    member = ds["category_member"]
    assert member.sel(category_label="animate").sum() == 48
    assert (member.sel(category_label="face") == (ds["category"].str.endswith("face"))).all()


def test_wrong_file_is_named(sources, tmp_path):
    with pytest.raises(DownloadError, match="brain_rdms.mat: sha256"):
        convert_kriegeskorte(sources[1], sources[1], tmp_path)
    with pytest.raises(DownloadError, match="missing.mat: file does not exist"):
        convert_kriegeskorte(sources[0], tmp_path / "missing.mat", tmp_path)
