"""The real workflow, end to end, on a tiny demo config."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from neuralign.io.dataset import open_dataset
from tests.conftest import REPO, SMALL_IMAGES

CONFIG = {
    "datasets": ["demo"],
    "models": ["untrained_resnet18"],
    "demo": {"n_stimuli": 120, "n_neurons": 6, "n_repetitions": 4, "image_size": 64},
    "activations": {
        "batch_size": 16,
        **SMALL_IMAGES,
        "reduction": {"grid": 2},
    },
    "fitting": {"n_splits": 3, "n_bootstrap": 200},
}


@pytest.mark.workflow
def test_demo_workflow_end_to_end(run_snakemake, tmp_path):
    run_snakemake(CONFIG)
    results = tmp_path / "results"

    dataset = open_dataset(results / "datasets" / "demo.nc")
    assert dataset["responses"].shape == (120, 6, 4)
    assert dataset.attrs["simulated"] == 1

    activations = xr.open_dataset(results / "activations" / "demo" / "untrained_resnet18.nc")
    assert activations.attrs["layers"] == [
        "act1",
        "layer1",
        "layer2",
        "layer3",
        "layer4",
        "global_pool",
    ]
    assert activations["layer4"].shape == (120, 512 * 2 * 2)
    assert activations["global_pool"].shape == (120, 512)
    assert list(activations["stimulus_id"].values) == list(dataset["stimulus_id"].values)
    assert len(activations.attrs["weights_sha256"]) == 64

    fit = xr.open_dataset(results / "fits" / "demo" / "untrained_resnet18.nc")
    assert fit["r"].shape == (6, 3, 6)  # layer, split, neuroid
    assert np.isfinite(fit["r"]).all()
    assert set(fit["chosen_layer"].values) <= set(activations.attrs["layers"])

    ceiling = xr.open_dataset(results / "ceilings" / "demo.nc")
    np.testing.assert_allclose(fit["ceiling_per_neuroid"], ceiling["ceiling"])

    scores = pd.read_csv(results / "scores" / "demo.csv")
    assert scores["model"].tolist() == ["untrained_resnet18"]
    row = scores.iloc[0]
    assert row["imagenet_top1"] == 0.1 and row["family"] == "untrained"
    assert row["ceiled"] == pytest.approx(row["raw"] ** 2 / row["ceiling"])
    assert np.isfinite(scores[["raw", "ceiling", "ceiled", "ceiled_ci_low"]]).all().all()

    for suffix in ("png", "pdf"):
        figure = results / "figures" / "demo" / f"accuracy_vs_predictivity.{suffix}"
        assert figure.stat().st_size > 5000

    table = pd.read_csv(results / "tables" / "demo" / "accuracy_correlations.csv")
    assert table["n_models"].tolist() == [0, 0]  # only an untrained model: nothing to correlate

    # a second run has nothing to do
    assert "Nothing to be done" in run_snakemake(CONFIG, "-n").stdout

    # switching the mapping refits without extracting again
    acts_path = results / "activations" / "demo" / "untrained_resnet18.nc"
    before = acts_path.stat().st_mtime_ns
    run_snakemake({**CONFIG, "fitting": {**CONFIG["fitting"], "mapping": "pls"}})
    assert acts_path.stat().st_mtime_ns == before
    fit = xr.open_dataset(results / "fits" / "demo" / "untrained_resnet18.nc")
    assert fit.attrs["mapping"].startswith("PLS regression, 25 components")
    assert np.isfinite(fit["r"]).all()


@pytest.mark.workflow
def test_demo_config_draws_every_figure_type(run_snakemake):
    """`make demo`'s config plans every figure and table of the paper, each built by the rules
    the other workflow tests run on smaller data."""
    demo = yaml.safe_load((REPO / "config" / "demo.yaml").read_text())
    demo["model_table"] = str(REPO / demo["model_table"])
    planned = run_snakemake(demo, "-n", "--quiet", "rules").stdout
    for rule in (
        "figure_accuracy_vs_predictivity",
        "accuracy_correlations",
        "figure_map_panel",
        "figure_map_predictivity",
        "figure_fmri",
        "harmonizer_demo",
    ):
        assert rule in planned, planned
    assert "download" not in planned  # offline: nothing to download, no stage left out
    assert "left_out" not in planned
