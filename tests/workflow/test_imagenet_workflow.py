"""Rule imagenet_accuracy in a real Snakemake run: a checkpoint model without a published top-1
is measured on a small validation folder and scored with that number; without the folder (gated
input) the stage is left out and that model is scored with an empty top-1."""

import os

import numpy as np
import pandas as pd
import pytest

from neuralign.analyses.imagenet import wilson_interval
from neuralign.io.artifacts import KEYS, read_provenance
from neuralign.models.loading import load_model, save_checkpoint
from tests.analyses.test_imagenet_eval import LITE0, write_val_folder

MODELS = """id\tsource\timagenet_top1\tfamily\tnotes
lite0\toffline:tf_efficientnet_lite0\t75.1\tConvNet\tTF EfficientNet-Lite release
lite0_checkpoint\tcheckpoint:lite0.pt\t\tConvNet\tlite0's weights saved as a checkpoint
"""
PUBLISHED = "".join(MODELS.splitlines(keepends=True)[:2])  # lite0 only
CONFIG = {
    "datasets": ["demo"],
    "demo": {"n_stimuli": 48, "n_neurons": 8, "n_repetitions": 4, "image_size": 64},
    # small inputs and two layers keep extraction and fits quick
    "activations": {
        "batch_size": 48,
        "layers": 2,
        "preprocessing": "brainscore",
        "image_size": 64,
        "reduction": {"grid": 1},
    },
    "fitting": {"n_splits": 2, "train_size": 0.75, "n_bootstrap": 100},
}
COLUMNS = [
    "model",
    "source",
    "n_images",
    "n_classes",
    "top1",
    "top1_ci_low",
    "top1_ci_high",
    "top5",
    "weights_sha256",
    "val_dir",
    "max_images",
    "seed",
]


@pytest.mark.workflow
def test_measured_top1_flows_into_the_scores(run_snakemake, tmp_path):
    (tmp_path / "models.tsv").write_text(MODELS)
    lite0 = load_model(LITE0)
    save_checkpoint(lite0.module, "tf_efficientnet_lite0", tmp_path / "lite0.pt")
    val_dir = write_val_folder(tmp_path / "val")
    config = {
        **CONFIG,
        "model_table": str(tmp_path / "models.tsv"),
        "imagenet": {"val_dir": str(val_dir), "batch_size": 4, "evaluate": "all"},
    }
    run_snakemake(config, "results/scores/demo.csv", "results/tables/imagenet_accuracy.csv")
    results = tmp_path / "results"

    low, high = (100 * bound for bound in wilson_interval(3, 5))
    for model, source in [("lite0", LITE0), ("lite0_checkpoint", "checkpoint:lite0.pt")]:
        accuracy = pd.read_csv(results / "imagenet" / f"{model}.csv")
        assert accuracy.columns.tolist()[: len(COLUMNS)] == COLUMNS
        provenance = read_provenance(results / "imagenet" / f"{model}.csv")
        assert provenance["rule"] == "imagenet_accuracy" and provenance["simulated"] == 0
        assert (provenance["dataset"], provenance["model"]) == ("imagenet_val", model)
        row = accuracy.iloc[0]
        assert (row["model"], row["source"], row["val_dir"]) == (model, source, str(val_dir))
        assert (row["n_images"], row["n_classes"], row["top1"], row["top5"]) == (5, 4, 60, 80)
        assert (row["top1_ci_low"], row["top1_ci_high"]) == pytest.approx((low, high))
        assert row["weights_sha256"] == lite0.weights_sha256  # the same weights either way

    summary = pd.read_csv(results / "tables" / "imagenet_accuracy.csv").set_index("model")
    assert summary.index.tolist() == ["lite0", "lite0_checkpoint"]
    assert summary.loc["lite0", "difference"] == pytest.approx(60 - 75.1)
    assert summary.loc["lite0", "table_in_ci"]  # 75.1 lies in the wide 5-image interval
    assert np.isnan(summary.loc["lite0_checkpoint", ["imagenet_top1", "difference"]]).all()

    scores = pd.read_csv(results / "scores" / "demo.csv").set_index("model")
    assert scores["imagenet_top1"].tolist() == [75.1, 60.0]
    assert scores["imagenet_top1_source"].tolist() == [
        "model table",
        "measured on 5 ImageNet val images",
    ]

    # the checkpoint is an input of its accuracy job (a newer one reruns it), whose table is
    # one of rule all's targets
    os.utime(tmp_path / "lite0.pt")
    plan = run_snakemake(config, "-n").stdout
    jobs = {block.split(":")[0]: block for block in plan.split("\nrule ")[1:]}
    assert "model=lite0_checkpoint" in jobs["imagenet_accuracy"]
    assert "Updated input files: lite0.pt" in jobs["imagenet_accuracy"], plan
    assert "results/tables/imagenet_accuracy.csv" in jobs["all"].split("\n")[1], plan


@pytest.mark.workflow
def test_without_val_images_the_stage_is_left_out_and_the_top1_stays_empty(run_snakemake, tmp_path):
    """No validation folder (gated: a registration): one line at start-up, the "left out"
    table, and the model without a published top-1 is scored with an empty one that says why,
    drawn apart from the accuracy axis."""
    (tmp_path / "models.tsv").write_text(MODELS)
    save_checkpoint(load_model(LITE0).module, "tf_efficientnet_lite0", tmp_path / "lite0.pt")
    config = {
        **CONFIG,
        "model_table": str(tmp_path / "models.tsv"),
        "imagenet": {"val_dir": "nowhere"},
    }
    proc = run_snakemake(config)
    [line] = [line for line in proc.stderr.splitlines() if line.startswith("neuralign: left out")]
    assert "ImageNet top-1 of lite0_checkpoint" in line and "'imagenet.val_dir': nowhere" in line
    results = tmp_path / "results"
    assert not (results / "imagenet").exists()
    scores = pd.read_csv(results / "scores" / "demo.csv").set_index("model")
    assert scores.loc["lite0", "imagenet_top1"] == 75.1
    assert np.isnan(scores.loc["lite0_checkpoint", "imagenet_top1"])
    assert scores.loc["lite0_checkpoint", "imagenet_top1_source"].startswith("not available")
    assert np.isfinite(scores["raw"]).all()
    assert (results / "figures" / "demo" / "accuracy_vs_predictivity.png").stat().st_size > 5000
    left_out = pd.read_csv(results / "tables" / "left_out.csv")
    assert left_out["missing"].str.contains("ImageNet validation images").tolist() == [True]
    provenance = read_provenance(results / "tables" / "left_out.csv")
    assert set(KEYS) <= provenance.keys() and provenance["rule"] == "left_out"


@pytest.mark.workflow
def test_by_default_only_models_without_a_top1_are_measured(run_snakemake, tmp_path):
    (tmp_path / "models.tsv").write_text(MODELS)
    (tmp_path / "lite0.pt").touch()  # a dry run does not read it
    config = {
        **CONFIG,
        "model_table": str(tmp_path / "models.tsv"),
        "imagenet": {"val_dir": str(write_val_folder(tmp_path / "val"))},
    }
    plan = run_snakemake(config, "-n").stdout
    jobs = [block for block in plan.split("\nrule ")[1:] if block.startswith("imagenet_accuracy:")]
    assert len(jobs) == 1 and "model=lite0_checkpoint" in jobs[0], plan


@pytest.mark.workflow
def test_without_val_dir_the_stage_plans_nothing(run_snakemake, tmp_path):
    (tmp_path / "models.tsv").write_text(PUBLISHED)
    config = {**CONFIG, "model_table": str(tmp_path / "models.tsv")}
    planned = run_snakemake(config, "-n", "--quiet", "rules").stdout
    assert "scores" in planned and "imagenet" not in planned, planned


@pytest.mark.workflow
def test_evaluate_all_skips_backbones_without_an_imagenet_head(run_snakemake, tmp_path):
    """A self-supervised backbone keeps its published linear-probe top-1; the stage says it
    skips it and measures the others."""
    backbone = "dino_vit_s16\ttimm:vit_small_patch16_224.dino\t77.0\tself-supervised\tDINO\n"
    (tmp_path / "models.tsv").write_text(PUBLISHED + backbone)
    config = {
        **CONFIG,
        "model_table": str(tmp_path / "models.tsv"),
        "imagenet": {"val_dir": str(write_val_folder(tmp_path / "val")), "evaluate": "all"},
    }
    proc = run_snakemake(config, "-n")
    jobs = [
        block
        for block in proc.stdout.split("\nrule ")[1:]
        if block.startswith("imagenet_accuracy:")
    ]
    assert len(jobs) == 1 and "model=lite0" in jobs[0], proc.stdout
    assert "activations/demo/dino_vit_s16.nc" in proc.stdout
    note = "'imagenet.evaluate: all' skips 1 model(s) without a 1000-way ImageNet classifier"
    assert note in proc.stderr and "dino_vit_s16" in proc.stderr, proc.stderr
