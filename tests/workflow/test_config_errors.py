"""Bad config stops the run before any job starts, with a message naming what is wrong."""

import pandas as pd
import pytest

from neuralign.config import (
    ConfigError,
    check_harmonizer,
    check_layer_config,
    check_maps,
    check_model_files,
    check_user_datasets,
)
from neuralign.models.table import weights_download

TINY = {"datasets": ["demo"], "models": ["untrained_resnet18"]}


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            {"fitting": {"n_split": 3}},
            ["unknown key 'n_split' in config.fitting", "did you mean 'n_splits'"],
        ),
        ({"activation": {}}, ["unknown key 'activation' in config", "'activations'"]),
        (
            {"models": ["untrained_resnet19"]},
            ["unknown model id 'untrained_resnet19'", "untrained_resnet18"],
        ),
        (
            {"activations": {"model_layers": {"untrained_resnet18": ["layer9"]}}},
            ["'untrained_resnet18' has no layer(s) ['layer9']", "layer4"],
        ),
        (
            {"datasets": ["arcaro2020_george"]},
            ["is a map dataset; list it under 'maps.datasets'", "scorable now: demo"],
        ),
        ({"datasets": ["dmeo"]}, ["unknown dataset 'dmeo'", "did you mean 'demo'"]),
        ({"fitting": {"ceiling_formula": "r/sqrt(c)"}}, ["ceiling_formula", "r/c"]),
        ({"activations": {"reduction": {"method": "pca"}}}, ["needs 'activations.pca_images'"]),
        (
            {"metrics": ["cka", "procrustess"]},
            ["config 'metrics': unknown metric 'procrustess'", "did you mean 'procrustes'"],
        ),
        (
            {"metrics": ["cka"], "fitting": {"cv": "loso"}},
            ["config 'metrics' needs held-out sets", "'fitting.cv'"],
        ),
    ],
    ids=[
        "misspelt-key",
        "misspelt-section",
        "model",
        "layer",
        "map-dataset",
        "unknown-dataset",
        "bad-value",
        "pca-without-images",
        "unknown-metric",
        "metrics-with-loso",
    ],
)
def test_bad_config_fails_before_any_job(run_snakemake, tmp_path, change, expected):
    proc = run_snakemake({**TINY, **change}, "-n", check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    for text in expected:
        assert text in output, output
    assert "Job stats" not in output and not (tmp_path / "results").exists()


def test_valid_layers_pass_the_check(run_snakemake):
    config = {**TINY, "activations": {"model_layers": {"untrained_resnet18": ["layer2", "fc"]}}}
    proc = run_snakemake(config, "-n")
    assert "activations" in proc.stdout


def test_torchvision_models_need_named_layers():
    table = pd.DataFrame({"source": ["torchvision:alexnet"]}, index=["alexnet"])
    activations = {"layers": "stages", "model_layers": {}}
    with pytest.raises(ConfigError, match="activations.model_layers.alexnet"):
        check_layer_config(activations, table, ["alexnet"])
    check_layer_config({**activations, "model_layers": {"alexnet": 8}}, table, ["alexnet"])


def test_keras_models_need_their_file_or_url_and_named_layers(tmp_path):
    url = "https://storage.googleapis.com/serrelab/prj_harmonization/models/vgg16_harmonized.h5"
    path = tmp_path / "vgg16_harmonized.h5"
    table = pd.DataFrame(
        {"source": [f"keras:{path}"], "notes": ["harmonized VGG16"], "url": [""]}, index=["vgg"]
    )
    with pytest.raises(ConfigError, match=rf"'vgg': Keras model file {path} does not exist.*'url'"):
        check_model_files(table, ["vgg"], "m.tsv")
    with pytest.raises(ConfigError, match="activations.model_layers.vgg"):
        check_layer_config({"layers": "stages", "model_layers": {}}, table, ["vgg"])
    check_model_files(table.assign(url=[url]), ["vgg"])  # downloaded by rule download
    path.touch()
    check_model_files(table, ["vgg"])


def test_user_datasets_need_their_files_and_a_name_of_their_own(tmp_path):
    with pytest.raises(ConfigError, match="'user_datasets.mine.images': nowhere does not exist"):
        check_user_datasets({"mine": {"images": "nowhere", "responses": str(tmp_path)}})
    for name in ("demo", "cowley2023_v4_190923", "arcaro2020_red", "god_fmri"):
        with pytest.raises(ConfigError, match=f"'user_datasets.{name}': '{name}' is a built-in"):
            check_user_datasets({name: {"netcdf": str(tmp_path)}})
    check_user_datasets({"mine": {"netcdf": str(tmp_path), "ceiling": 0.5}})


def test_weights_only_harmonized_models_are_downloaded_from_their_registered_url(
    tmp_path, monkeypatch
):
    """No file is needed before the run (rule download fetches it, trust on first use); a
    ``url`` column that disagrees with the registry stops the run; layers are checked on the
    timm architecture, without the file."""
    monkeypatch.chdir(tmp_path)
    url = (
        "https://storage.googleapis.com/serrelab/prj_harmonization/models/"
        "convnext_tiny_harmonized.h5"
    )
    path = (
        "resources/storage.googleapis.com/serrelab/prj_harmonization/models/"
        + (url.rsplit("/")[-1])
    )
    table = pd.DataFrame(
        {"source": ["harmonized:convnext_tiny"], "notes": [""], "url": [""]}, index=["cnx"]
    )
    check_model_files(table, ["cnx"], "m.tsv")
    check_model_files(table.assign(url=[url]), ["cnx"], "m.tsv")
    [(local, remote)] = weights_download("harmonized:convnext_tiny").items()
    assert (local, remote.url, remote.trust_on_first_use) == (path, url, True)
    wrong = url.replace("convnext", "convnext_small")
    with pytest.raises(
        ConfigError, match=rf"'cnx': the 'url' column of the model table m.tsv gives {wrong}.*{url}"
    ):
        check_model_files(table.assign(url=[wrong]), ["cnx"], "m.tsv")
    activations = {"layers": "stages", "model_layers": {"cnx": ["stages.1", "stages.9"]}}
    with pytest.raises(ConfigError, match=r"'cnx' has no layer\(s\) \['stages.9'\]"):
        check_layer_config(activations, table, ["cnx"])
    check_layer_config({**activations, "model_layers": {"cnx": ["stages.1"]}}, table, ["cnx"])
    assert not (tmp_path / "resources").exists()


def test_map_options_are_checked_with_the_config():
    maps = {
        "datasets": ["demo_maps"],
        "attribution": True,
        "attribution_mapping": "ridge",
        "mappings": ["pls"],
        "arcaro2020_archive": None,
    }
    with pytest.raises(ConfigError, match="are map datasets; list them"):
        check_maps(maps, ["demo_maps"])
    with pytest.raises(ConfigError, match="maps.attribution_mapping 'ridge' is not one of"):
        check_maps(maps, ["demo"])
    unfitted = {**maps, "attribution": False, "arcaro2020_archive": "nowhere.zip"}
    with pytest.raises(ConfigError, match="'maps.arcaro2020_archive' is 'nowhere.zip', not a"):
        check_maps(unfitted, ["demo"])


def test_harmonizer_options_are_checked_with_the_config(tmp_path):
    """One check, one message for a torchvision base (also the trainer's: checkpoint_arch)."""
    harmonizer = {"clickme": {"train": None, "val": None}, "imagenet_train": None, "runs": {}}
    check_harmonizer(harmonizer)
    with pytest.raises(ConfigError, match=r"harmonizer.clickme.val': ClickMe folder nowhere"):
        check_harmonizer({**harmonizer, "clickme": {"train": None, "val": "nowhere"}})
    runs = {"r": {"base": "timm-untrained:resnet10t", "data": "clickme+imagenet"}}
    with pytest.raises(ConfigError, match="'harmonizer.runs.r': data 'clickme\\+imagenet'"):
        check_harmonizer({**harmonizer, "runs": runs})
    runs = {"r": {"base": "torchvision:resnet18", "data": "synthetic"}}
    with pytest.raises(ConfigError, match="runs.r.base': .*harmonized checkpoints are timm"):
        check_harmonizer({**harmonizer, "runs": runs})
