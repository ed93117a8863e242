"""SIMULATED fMRI (neuralign.datasets.simulated.fmri): files in the published GOD layout for the
offline demo."""

import hashlib

import h5py
import numpy as np
import pytest

from neuralign.config import ConfigError, check_fmri_simulated_paths
from neuralign.datasets.god_fmri import ROIS, convert_god, stimulus_names
from neuralign.datasets.simulated import fmri as demo_fmri
from neuralign.io.dataset import DatasetError, validate_dataset

SMALL = {
    "n_train": 12,
    "n_test": 4,
    "n_repetitions": 3,
    "image_size": 48,
    "n_voxels": {"V1": 4, "V2": 3, "V3": 0, "V4": 2, "LOC": 3, "FFA": 2, "PPA": 2},
    "seed": 3,
}
SUBJECTS = ["Subject1", "Subject2"]


def simulate(folder, **changes):
    paths = demo_fmri.simulate_god(
        folder / "h5", folder / "images", SUBJECTS, **{**SMALL, **changes}
    )
    return paths, folder / "images"


def digest(folder):
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    return simulate(tmp_path_factory.mktemp("simulated"))


def test_simulated_files_pass_the_converter_marked_simulated(simulated, tmp_path):
    (h5, _), images = simulated
    ds = validate_dataset(convert_god(h5, "Subject1", images, tmp_path / "out", simulated=True))
    assert ds.sizes == {"stimulus": 16, "neuroid": 16, "repetition": 3}
    assert list(ds["split"].values) == ["train"] * 12 + ["test"] * 4
    assert not np.isnan(ds["responses"].values[12:]).any()  # test images shown 3 times
    assert np.isnan(ds["responses"].values[:12, :, 1:]).all()  # training images once
    assert ds["stimulus_id"].values[0] == "n90000001_1"  # fake synset of the first photograph
    assert ds["category"].values[12] == "n90000001"  # image 13 is a crop of the first again
    members = {roi: int(ds[f"roi_{roi}"].sum()) for roi in ROIS}
    assert members == {
        **SMALL["n_voxels"],
        "LVC": 7,
        "HVC": 7,
        "VC": 16,
    }
    assert ds.attrs["simulated"] == 1 and ds.attrs["simulation_seed"] == 3
    for key in ("description", "citation", "source", "source_url", "stimulus_images"):
        assert "SIMULATED" in ds.attrs[key], key
    assert "figshare" not in ds.attrs["source_url"]
    # signal (SD 1) plus noise (SD 1): repetitions of a test image are correlated
    test = ds["responses"].values[12:]
    r = np.corrcoef(test[..., 0].ravel(), test[..., 1].ravel())[0, 1]
    assert r > 0.2


def test_every_file_says_simulated(simulated):
    (h5, _), _ = simulated
    with h5py.File(h5) as f:
        assert f.attrs["simulated"] == 1
        assert f.attrs["description"].startswith("SIMULATED")
        descriptions = [d.decode() for d in f["metadata/description"][()]]
        keys = [k.decode() for k in f["metadata/key"][()]]
    assert all(d.startswith("SIMULATED") for d in descriptions)
    assert {"VoxelData", "DataType", "Run", "stimulus_id", "voxel_x", "ROI_FFA"} <= set(keys)


def test_subjects_share_images_not_voxels(simulated, tmp_path):
    (h5_1, h5_2), images = simulated
    assert stimulus_names(h5_1) == stimulus_names(h5_2)
    one, two = (
        convert_god(h5, subject, images, tmp_path / subject)
        for h5, subject in zip((h5_1, h5_2), SUBJECTS, strict=True)
    )
    assert not np.allclose(one["responses"].values[12:], two["responses"].values[12:])
    assert (tmp_path / "Subject1" / "n90000001_1.JPEG").read_bytes() == (
        images / "training" / "n90000001_1.JPEG"
    ).read_bytes()


def test_the_seed_fixes_every_byte(simulated, tmp_path):
    _, images = simulated
    _, again = simulate(tmp_path / "again")
    assert digest(images.parent) == digest(again.parent)
    _, other = simulate(tmp_path / "other", seed=4)
    assert digest(other.parent)["h5/Subject1.h5"] != digest(images.parent)["h5/Subject1.h5"]


def test_the_converter_refuses_a_mismatched_marking(simulated, tmp_path):
    (h5, _), images = simulated
    with pytest.raises(DatasetError, match=r"Subject1\.h5: expected a recorded GOD file"):
        convert_god(h5, "Subject1", images, tmp_path / "out", simulated=False)


def test_unknown_subject_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown GOD subjects"):
        demo_fmri.simulate_god(tmp_path, tmp_path / "images", ["Subject9"], **SMALL)


@pytest.mark.parametrize(
    ("h5_dir", "stimulus_dir", "message"),
    [
        ("results/sim", None, "'fmri.stimulus_dir', which is not set"),
        ("resources/god_fmri", "results/sim_images", "where the real GOD files belong"),
        ("results/sim/h5", "results/sim", "lies in 'fmri.stimulus_dir'"),
        ("results/sim", "results/sim", "lies in 'fmri.stimulus_dir'"),
    ],
)
def test_simulated_paths_are_checked(h5_dir, stimulus_dir, message):
    with pytest.raises(ConfigError, match=message):
        check_fmri_simulated_paths({"h5_dir": h5_dir, "stimulus_dir": stimulus_dir})
    check_fmri_simulated_paths({"h5_dir": "results/sim", "stimulus_dir": "results/sim_images"})
