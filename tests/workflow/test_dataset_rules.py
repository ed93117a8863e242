"""Dataset rules: verified downloads from the offline mirror, then conversion."""

import shutil

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from neuralign.datasets.cowley2023 import SESSIONS
from neuralign.fitting.chosen import most_chosen_layer
from neuralign.io.dataset import open_dataset
from neuralign.io.resources import mirror_path
from tests.conftest import SMALL_IMAGES

CONFIG = {"datasets": ["demo"], "models": ["untrained_resnet18"]}
COWLEY = "results/datasets/cowley2023_v4_210325.nc"
KRIEGESKORTE = "results/datasets/kriegeskorte2008_92.nc"
RAW = mirror_path(SESSIONS["210325"].raw.url)


def test_datasets_build_from_the_mirror(run_snakemake, mirror, tmp_path):
    run_snakemake(CONFIG, COWLEY, KRIEGESKORTE, env={"NEURALIGN_MIRROR": str(mirror)})
    downloaded = tmp_path / "resources" / RAW
    assert downloaded.read_bytes() == (mirror / RAW).read_bytes()
    cowley = open_dataset(tmp_path / COWLEY)
    source = np.load(mirror / RAW)  # (neuron, image, repeat)
    np.testing.assert_array_equal(
        cowley["responses"].values, source.transpose(1, 0, 2).astype(np.float32)
    )
    rdms = open_dataset(tmp_path / KRIEGESKORTE)
    assert rdms["rdm"].sizes["stimulus"] == 92 and "monkey_IT" in rdms["subject"].values


def test_corrupt_mirror_file_fails_clearly_and_keeps_other_results(run_snakemake, mirror, tmp_path):
    bad_mirror = tmp_path / "mirror"
    shutil.copytree(mirror, bad_mirror)
    corrupt = bad_mirror / RAW
    corrupt.chmod(0o644)
    corrupt.write_bytes(corrupt.read_bytes()[:1000])  # truncated
    env = {"NEURALIGN_MIRROR": str(bad_mirror)}
    run_snakemake(CONFIG, KRIEGESKORTE, env=env)
    proc = run_snakemake(CONFIG, COWLEY, env=env, check=False)
    assert proc.returncode != 0
    assert "responses_210325.npy" in proc.stdout + proc.stderr
    assert not (tmp_path / COWLEY).exists()
    assert not (tmp_path / "resources" / RAW).exists()
    assert (tmp_path / KRIEGESKORTE).is_file()


def test_rdm_dataset_is_scored_by_rsa(run_snakemake, mirror, tmp_path):
    config = {
        "datasets": ["kriegeskorte2008_92"],
        "models": ["untrained_resnet18"],
        "rsa": {"n_splits": 4},
        "activations": {"layers": ["layer2", "layer4"], **SMALL_IMAGES},
    }
    run_snakemake(config, env={"NEURALIGN_MIRROR": str(mirror)})
    fit = xr.open_dataset(
        tmp_path / "results" / "fits" / "kriegeskorte2008_92" / "untrained_resnet18.nc"
    )
    assert fit["held_out_score"].shape == (2, 4)
    assert 0 < float(fit["ceiling_lower"]) < float(fit["ceiling"]) < 1  # 4 human subjects
    assert float(fit["ceiled"]) == pytest.approx(float(fit["raw"]) / float(fit["ceiling"]))
    scores = pd.read_csv(tmp_path / "results" / "scores" / "kriegeskorte2008_92.csv")
    assert scores["ceiling_formula"].tolist() == ["r/c"]


def test_brainscore_layer_choice_uses_the_layer_chosen_on_another_dataset(
    run_snakemake, mirror, tmp_path
):
    config = {
        "datasets": ["cowley2023_v4_210325"],
        "models": ["untrained_resnet18"],
        "demo": {"n_stimuli": 120, "n_neurons": 6, "n_repetitions": 4, "image_size": 64},
        "activations": {"layers": ["layer1", "layer4"], **SMALL_IMAGES},
        "fitting": {"n_splits": 3, "n_bootstrap": 100, "select_layer_on": "demo"},
    }
    run_snakemake(config, env={"NEURALIGN_MIRROR": str(mirror)})
    fits = tmp_path / "results" / "fits"
    source = xr.open_dataset(fits / "demo" / "untrained_resnet18.nc")
    fit = xr.open_dataset(fits / "cowley2023_v4_210325" / "untrained_resnet18.nc")
    layer = most_chosen_layer(source)[0]
    assert set(fit["chosen_layer"].values) == {layer}
    assert fit.attrs["layer_selection"] == f"Brain-Score's scheme: layer {layer} chosen on demo"
    assert "per split" in source.attrs["layer_selection"]
