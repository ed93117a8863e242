"""The harmonizer in the workflow: a tiny run's checkpoint is extracted and fitted downstream,
beside a Keras model file (the form of the published harmonized models)."""

import io
import os
import re

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr
from PIL import Image

from neuralign.activations.reading import layer_names
from neuralign.datasets.clickme import N_SHARDS
from neuralign.io.artifacts import read_provenance
from neuralign.io.tfrecord import write_examples
from neuralign.models.loading import load_model, state_dict_sha256
from tests.conftest import SMALL_IMAGES

MODELS = """id\tsource\timagenet_top1\tfamily\tnotes
untrained_resnet10t\ttimm-untrained:resnet10t\t0.1\tuntrained\trandom initialisation
harmonized_tiny\tcheckpoint:results/harmonizer/tiny/model.pt\t0.1\tharmonized\ttest run
"""
CONFIG = {
    "datasets": ["demo"],
    "demo": {"n_stimuli": 48, "n_neurons": 8, "n_repetitions": 4, "image_size": 64},
    "activations": {
        "batch_size": 16,
        **SMALL_IMAGES,
        "reduction": {"grid": 1},
    },
    "fitting": {"n_splits": 2, "train_size": 0.75, "n_bootstrap": 100},
    "harmonizer": {
        "runs": {
            "tiny": {
                "base": "timm-untrained:resnet10t",
                "data": "synthetic",
                "lambda": 1.0,
                "epochs": 1,
                "lr": 0.001,
                "batch_size": 16,
                "image_size": 64,
                "n_images": 32,
            }
        },
        # the offline demo (rule harmonizer_demo) runs in tests/workflow/test_artifacts_workflow.py
    },
}


KERAS_LAYERS = ["conv1", "bn1", "conv2", "pool"]


def write_keras_model(path):
    """A small Keras CNN saved as HDF5 with ``model.save``."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    layers = keras.layers
    inputs = keras.Input((64, 64, 3))
    x = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="conv1")(inputs)
    x = layers.BatchNormalization(name="bn1")(x)
    x = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu", name="conv2")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    keras.Model(inputs, layers.Dense(10, name="logits")(x)).save(path)


def write_clickme_val(folder):
    """Three ClickMe-like records (JPEG image and heatmap, label) in val-0.tfrecords."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    examples = []
    for label in (1, 2, 3):
        image = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
        heatmap = np.zeros((256, 256), np.uint8)
        top, left = rng.integers(0, 200, 2)
        heatmap[top : top + 56, left : left + 56] = 255
        examples.append({"image": jpeg(image), "heatmap": jpeg(heatmap), "label": label})
    write_examples(folder / "val-0.tfrecords", examples)


def jpeg(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.mark.workflow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # keras's own, when saving
def test_harmonized_checkpoint_flows_into_fits(run_snakemake, tmp_path):
    table = tmp_path / "models.tsv"
    keras_file = tmp_path / "keras_tiny.h5"
    write_keras_model(keras_file)
    table.write_text(f"{MODELS}keras_tiny\tkeras:{keras_file}\t0.1\tharmonized\ttest model\n")
    write_clickme_val(tmp_path / "clickme")
    harmonizer = {**CONFIG["harmonizer"], "clickme": {"val": str(tmp_path / "clickme")}}
    harmonizer["alignment"] = {"enabled": True, "batch_size": 2}
    activations = {**CONFIG["activations"], "model_layers": {"keras_tiny": KERAS_LAYERS}}
    config = {**CONFIG, "activations": activations, "harmonizer": harmonizer}
    run_snakemake({**config, "model_table": str(table)})
    results = tmp_path / "results"

    history = pd.read_csv(results / "harmonizer" / "tiny" / "history.csv")
    columns = ["epoch", "loss", "cross_entropy", "alignment", "accuracy"]
    assert history.columns.tolist()[:5] == columns
    assert history["epoch"].tolist() == [0] and history["alignment"].iloc[0] > 0
    # the checkpoint says what produced it, as the history does: a SIMULATED training set
    provenance = read_provenance(results / "harmonizer" / "tiny" / "model.pt")
    assert provenance == read_provenance(results / "harmonizer" / "tiny" / "history.csv")
    assert provenance["rule"] == "harmonize" and provenance["simulated"] == 1
    assert provenance["dataset"] == "synthetic"
    assert provenance["model"] == "timm-untrained:resnet10t"
    harmonized = load_model(f"checkpoint:{results / 'harmonizer' / 'tiny' / 'model.pt'}").module
    torch.manual_seed(0)
    base = load_model("timm-untrained:resnet10t").module
    assert state_dict_sha256(harmonized) != state_dict_sha256(base)  # training changed it

    activations = xr.open_dataset(results / "activations" / "demo" / "harmonized_tiny.nc")
    assert activations.attrs["weights_sha256"] == state_dict_sha256(harmonized)
    keras_activations = xr.open_dataset(results / "activations" / "demo" / "keras_tiny.nc")
    assert layer_names(keras_activations) == KERAS_LAYERS
    keras_model = load_model(f"keras:{keras_file}").module
    assert keras_activations.attrs["weights_sha256"] == state_dict_sha256(keras_model)
    scores = pd.read_csv(results / "scores" / "demo.csv").set_index("model")
    assert scores.loc["harmonized_tiny", "family"] == "harmonized"
    assert scores["raw"].notna().all() and len(scores) == 3

    for model in scores.index:
        alignment = pd.read_csv(results / "harmonizer" / "alignment" / f"{model}.csv")
        assert alignment["n_images"].tolist() == [3]
        assert np.isfinite(alignment["human_alignment"]).all()
        if "human_alignment" in scores:  # once rule scores reads the alignment tables
            assert scores.loc[model, "human_alignment"] == alignment["human_alignment"].iloc[0]


@pytest.mark.workflow
@pytest.mark.parametrize(
    ("harmonizer", "message"),
    [
        ({"clickme": {"val": "nowhere"}}, r"harmonizer.clickme.val': ClickMe folder nowhere"),
        ({"runs": {"r": {"base": "timm-untrained:resnet10t", "lamda": 1}}}, "lamda"),
        ({"runs": {"demo": {"base": "timm-untrained:resnet10t"}}}, "demo"),
    ],
)
def test_bad_harmonizer_config_stops_before_any_job(run_snakemake, harmonizer, message):
    proc = run_snakemake({"datasets": ["demo"], "harmonizer": harmonizer}, "-n", check=False)
    assert proc.returncode != 0
    assert re.search(message, proc.stdout + proc.stderr), proc.stderr


@pytest.mark.workflow
def test_clickme_shards_are_downloaded_when_needed(run_snakemake):
    """Without a ClickMe folder, a run on ClickMe gets the training shards and alignment
    scoring the validation shards, each a download job (trust on first use). (Without either,
    nothing of ClickMe is downloaded: tests/workflow/test_workflow.py, the demo config.)"""
    harmonizer = {
        "runs": {"r": {"base": "timm-untrained:resnet10t", "data": "clickme"}},
        "alignment": {"enabled": True},
    }
    plan = run_snakemake({"datasets": ["demo"], "harmonizer": harmonizer}, "-n").stdout
    found = re.findall(r"output: resources/\S+/click-me/(train|val)/\1-\d+\.tfrecords", plan)
    assert {split: found.count(split) for split in ("train", "val")} == N_SHARDS
