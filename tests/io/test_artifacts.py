"""Artifacts: atomic unique writes, the one reader of intermediates, provenance in every kind
of file, the library version, config paths and stimulus images checked before a model loads."""

import json
import os
import socket
import subprocess
import sys
import tomllib
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import xarray as xr  # noqa: E402
from PIL import Image  # noqa: E402

import neuralign  # noqa: E402
from neuralign.config import ConfigError, config_file  # noqa: E402
from neuralign.io.artifacts import (  # noqa: E402
    ArtifactError,
    open_netcdf,
    read_provenance,
    read_table,
    save_figure,
    save_torch,
    write_csv,
    write_netcdf,
)
from neuralign.io.atomic import AtomicFile, atomic_path, remove_stale_temps, temp_path  # noqa: E402
from neuralign.io.dataset import DatasetError, stimulus_images  # noqa: E402
from neuralign.io.provenance import config_sha256, git_describe, job_provenance  # noqa: E402
from neuralign.models.loading import save_checkpoint  # noqa: E402
from tests.conftest import REPO  # noqa: E402

PROVENANCE = {
    "rule": "fit",
    "neuralign_version": "0.1.0",
    "git_describe": "abc1234-dirty",
    "config_sha256": "f" * 64,
    "simulated": 1,
    "dataset": "demo",
    "model": "m",
}


def dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# --- atomic writes ----------------------------------------------------------------------------


def test_temporary_names_are_unique_hidden_and_name_their_writer(tmp_path):
    target = tmp_path / "a.nc"
    names = {temp_path(target).name for _ in range(20)}
    assert len(names) == 20
    for name in names:
        assert name.startswith(f".a.nc.{socket.gethostname()}.{os.getpid()}.")
        assert name.endswith(".tmp")


def test_a_write_replaces_the_target_only_when_complete(tmp_path):
    target = tmp_path / "sub" / "table.csv"
    with atomic_path(target) as temp:
        temp.write_text("new")
        assert not target.exists() and temp.parent == target.parent
    assert target.read_text() == "new"
    with pytest.raises(RuntimeError), atomic_path(target) as temp:
        temp.write_text("partial")
        raise RuntimeError("killed midway")
    assert target.read_text() == "new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["table.csv"]


def test_only_temporaries_of_gone_writers_are_removed(tmp_path):
    target = tmp_path / "a.nc"
    host = socket.gethostname()
    dead = tmp_path / f".a.nc.{host}.{dead_pid()}.0123abcd.tmp"
    live = tmp_path / f".a.nc.{host}.{os.getpid()}.0123abcd.tmp"
    elsewhere = tmp_path / f".a.nc.other-host.example.{dead_pid()}.0123abcd.tmp"
    other_target = tmp_path / f".a.nc.x.{host}.{dead_pid()}.0123abcd.tmp"
    for path in (dead, live, elsewhere, other_target):
        path.write_text("partial")
    assert remove_stale_temps(target) == [dead]
    assert live.exists() and elsewhere.exists() and other_target.exists()
    AtomicFile(tmp_path / "b.nc")  # another target's write leaves a.nc's temporaries alone
    assert live.exists()


# --- the reader of intermediates --------------------------------------------------------------


def test_an_unreadable_netcdf_names_the_file_and_how_to_recompute_it(tmp_path):
    path = tmp_path / "acts.nc"
    write_netcdf(xr.Dataset({"x": ("a", np.arange(100_000.0))}), path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ArtifactError) as err:
        open_netcdf(path)
    message = str(err.value)
    assert message.startswith(f"{path}: cannot be read as netCDF")
    assert "delete it and rerun snakemake to recompute it" in message
    assert f"--forcerun {path}" in message
    with pytest.raises(ArtifactError, match="missing.nc: file does not exist"):
        open_netcdf(tmp_path / "missing.nc")


def test_an_unreadable_table_names_the_file(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_bytes(b"\xff\xfe\x00\x81 not text")
    with pytest.raises(ArtifactError, match=rf"{path}: cannot be read as CSV.*--forcerun"):
        read_table(path)


# --- provenance in every kind of file ---------------------------------------------------------


def test_every_writer_stamps_the_provenance_and_read_provenance_reads_it_back(tmp_path):
    write_netcdf(
        xr.Dataset({"x": ("a", [1.0])}, attrs={"dataset": "own"}), tmp_path / "a.nc", PROVENANCE
    )
    write_csv(pd.DataFrame({"model": ["x", "y"], "r": [0.1, 0.2]}), tmp_path / "t.csv", PROVENANCE)
    figure = plt.figure()
    save_figure(figure, [tmp_path / "f.png", tmp_path / "f.pdf"], PROVENANCE, dpi=50)
    save_checkpoint(torch.nn.Linear(2, 2), "resnet18", tmp_path / "m.pt", PROVENANCE)

    assert read_provenance(tmp_path / "a.nc") == {**PROVENANCE, "dataset": "own"}
    table = pd.read_csv(tmp_path / "t.csv")
    assert table["model"].tolist() == ["x", "y"]  # the table's own ids are kept
    assert (table["rule"] == "fit").all() and (table["dataset"] == "demo").all()
    assert read_provenance(tmp_path / "t.csv") == {**PROVENANCE, "model": "x"}
    for name in ("f.png", "f.pdf", "m.pt"):
        assert read_provenance(tmp_path / name) == PROVENANCE, name
    assert Image.open(tmp_path / "f.png").text["rule"] == "fit"
    assert not plt.fignum_exists(figure.number)  # closed
    assert not list(tmp_path.glob(".*"))  # no temporary file left


def test_simulated_is_raised_by_either_side_never_lowered(tmp_path):
    data = xr.Dataset({"x": ("a", [1.0])}, attrs={"simulated": 1})
    write_netcdf(data, tmp_path / "a.nc", {**PROVENANCE, "simulated": 0})
    assert read_provenance(tmp_path / "a.nc")["simulated"] == 1
    write_csv(pd.DataFrame({"simulated": [0, 0]}), tmp_path / "t.csv", PROVENANCE)
    assert pd.read_csv(tmp_path / "t.csv")["simulated"].tolist() == [1, 1]
    write_csv(pd.DataFrame({"r": [0.5]}), tmp_path / "u.csv", {**PROVENANCE, "simulated": 0})
    assert read_provenance(tmp_path / "u.csv")["simulated"] == 0


@pytest.mark.parametrize("described", ["7533710", "0123456", "1e51234", "7533710-dirty"])
def test_a_git_hash_of_digits_reads_back_from_a_table_as_text(tmp_path, described):
    provenance = {**PROVENANCE, "git_describe": described, "model": "007"}
    write_csv(pd.DataFrame({"r": [0.5]}), tmp_path / "t.csv", provenance)
    assert read_provenance(tmp_path / "t.csv") == provenance
    assert read_table(tmp_path / "t.csv")["git_describe"].tolist() == [described]


def test_the_config_hash_follows_every_value_and_no_key_order():
    params = {"options": {"n_splits": 10, "seed": 1, "alphas": [0.1, 1.0]}, "source": "a"}
    reordered = {"source": "a", "options": {"alphas": [0.1, 1.0], "seed": 1, "n_splits": 10}}
    assert config_sha256(params) == config_sha256(reordered)
    changed = {**params, "options": {**params["options"], "alphas": [0.1, 2.0]}}
    assert config_sha256(changed) != config_sha256(params)
    assert config_sha256({**params, "extra": None}) != config_sha256(params)


class Params(dict):
    """Stands in for Snakemake's params (named items)."""


def test_job_provenance_from_what_a_script_knows(tmp_path):
    write_netcdf(xr.Dataset(attrs={"simulated": 1}), tmp_path / "sim.nc")
    write_netcdf(xr.Dataset(), tmp_path / "real.nc")
    (tmp_path / "images").mkdir()
    job = SimpleNamespace(
        rule="fit",
        params=Params(options={"n_splits": 3}),
        wildcards={"dataset": "demo", "model": "m", "subject": "s1"},
        input=[str(tmp_path / "real.nc"), str(tmp_path / "images")],
    )
    provenance = job_provenance(job)
    assert provenance == {
        "rule": "fit",
        "neuralign_version": neuralign.__version__,
        "git_describe": git_describe(),
        "config_sha256": config_sha256({"options": {"n_splits": 3}}),
        "simulated": 0,
        "dataset": "demo",
        "model": "m",
    }
    job.input.append(str(tmp_path / "sim.nc"))  # derived from simulated data
    assert job_provenance(job)["simulated"] == 1
    assert job_provenance(job, dataset="god_fmri")["dataset"] == "god_fmri"


def test_git_describe_of_this_checkout():
    expected = subprocess.run(
        ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert git_describe() == expected


def test_the_version_without_package_metadata_is_the_checkouts():
    """As in the --sdm conda environment: the package is imported through
    workflow/scripts/neuralign without being installed (python -S: no site-packages)."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from importlib import metadata\n"
        "try:\n    metadata.version('neuralign'); print('installed')\n"
        "except metadata.PackageNotFoundError:\n"
        "    import neuralign; print(neuralign.__version__)"
    )
    scripts = str(REPO / "workflow" / "scripts")
    out = subprocess.run(
        [sys.executable, "-S", "-c", code, scripts], capture_output=True, text=True, check=True
    ).stdout.strip()
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert out == pyproject == neuralign.__version__


# --- small things -----------------------------------------------------------------------------


def test_a_relative_config_path_is_read_from_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = {"model_table": "config/models_demo.tsv"}
    with pytest.raises(ConfigError) as err:
        config_file(config, "model_table", REPO)
    message = str(err.value)
    assert message.startswith("config 'model_table': config/models_demo.tsv does not exist")
    assert str(tmp_path) in message and str(REPO / "config" / "models_demo.tsv") in message
    assert config_file(
        {"model_table": str(REPO / "config" / "models_demo.tsv")}, "model_table", REPO
    )


def test_a_replaced_stimulus_image_is_reported_before_any_model_loads(tmp_path):
    (tmp_path / "images").mkdir()
    for k in range(2):
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "images" / f"{k}.png")
    ds = xr.Dataset(
        coords={
            "stimulus_id": ("stimulus", ["s0", "s1"]),
            "image_path": ("stimulus", ["images/0.png", "images/1.png"]),
        }
    )
    dataset_path = tmp_path / "demo.nc"
    assert stimulus_images(ds, dataset_path) == [
        str(tmp_path / "images" / f"{k}.png") for k in (0, 1)
    ]
    (tmp_path / "images" / "1.png").write_text("not an image any more")
    with pytest.raises(DatasetError) as err:
        stimulus_images(ds, dataset_path)
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'images' / '1.png'}: cannot be read as an image")
    assert f"{dataset_path} lists it as stimulus 's1'" in message
    assert f"--forcerun {dataset_path}" in message


def test_save_torch_is_atomic(tmp_path):
    save_torch({"a": torch.zeros(2)}, tmp_path / "state.pt")
    assert torch.load(tmp_path / "state.pt")["a"].tolist() == [0.0, 0.0]
    assert [p.name for p in tmp_path.iterdir()] == ["state.pt"]
    assert json.dumps(read_provenance(tmp_path / "state.pt")) == '{"simulated": 0}'
