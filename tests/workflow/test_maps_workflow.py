"""The map stage of the real workflow: the SIMULATED demo maps and a fixture in the published
Arcaro 2020 layout, downloaded through a mirror (trust on first use)."""

import zipfile

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from neuralign.datasets.arcaro2020 import ARCHIVE
from neuralign.io.dataset import open_dataset
from neuralign.io.resources import DownloadLock, mirror_path, sha256_file
from tests.datasets.test_arcaro2020 import write_monkey

MODELS = ["untrained_resnet18", "tf_efficientnet_lite0"]
BASE = {
    "datasets": ["demo"],
    "models": MODELS,
    "activations": {"batch_size": 8, "image_size": 96},
}
MAPS = {"feature_grid": 8, "n_bootstrap": 200, "ceiling_splits": 4}


def targets(dataset: str) -> list[str]:
    return [
        f"results/maps/{dataset}.csv",
        *(
            f"results/figures/{dataset}/{name}.{ext}"
            for name in ("map_predictivity", "map_panel")
            for ext in ("png", "pdf")
        ),
    ]


@pytest.mark.workflow
def test_demo_maps_workflow(run_snakemake, tmp_path):
    config = {
        **BASE,
        "maps": {
            **MAPS,
            "datasets": ["demo_maps"],
            "demo": {
                "n_images": 5,
                "n_neurons": 6,
                "n_repetitions": 6,
                "grid": 7,
                "image_size": 64,
            },
        },
    }
    run_snakemake(config, *targets("demo_maps"))
    results = tmp_path / "results"
    dataset = open_dataset(results / "datasets" / "demo_maps.nc")
    assert dataset["maps"].shape == (5, 6, 7, 7)
    assert dataset["map_repetitions"].shape == (5, 6, 7, 7, 6)
    assert dataset.attrs["simulated"] == 1

    acts = xr.open_dataset(results / "activations" / "demo_maps" / "untrained_resnet18.nc")
    assert acts["layer4"].dims[1:] == ("layer4_channel", "layer4_y", "layer4_x")
    assert acts["layer4"].shape == (5, 512, 8, 8)
    assert "brainscore: 16.0 deg stimulus in a 16.0 deg field" in acts.attrs["preprocessing"]

    for model in MODELS:
        fit = xr.open_dataset(results / "maps" / "demo_maps" / f"{model}.nc")
        assert fit["r"].dims == ("mapping", "layer", "stimulus", "neuroid")
        assert list(fit["mapping"].values) == ["ridge", "pls"]
        assert "global_pool" not in fit["layer"].values  # not spatial
        assert np.isfinite(fit["r_selected"]).all()
        assert set(fit["chosen_layer"].values.ravel()) <= set(fit["layer"].values)
        assert np.isfinite(fit["predicted_maps"]).all()
        assert (fit["raw_ci_low"] <= fit["raw"] + 1e-12).all()
        assert (fit["raw"] <= fit["raw_ci_high"] + 1e-12).all()
        rho = fit["attribution_spearman"]
        assert rho.dims == ("method", "resolution", "stimulus", "neuroid")
        assert np.nanmax(np.abs(rho.values)) <= 1

    table = pd.read_csv(results / "maps" / "demo_maps.csv")
    assert len(table) == 2 * 2 * 2  # model x mapping x array
    assert set(table["model"]) == set(MODELS)
    assert set(table["array"]) == {"small_rf", "large_rf"}
    low = table[table["model"] == "untrained_resnet18"]
    assert (low["imagenet_top1"] == 0.1).all() and (low["family"] == "untrained").all()
    assert table["split_half_ceiling"].between(0, 1).all()
    assert table["neighbour_ceiling"].between(-1, 1).all()
    assert (
        np.isfinite(table[["raw", "saliency_spearman_full", "gradient_input_spearman_quarter"]])
        .all()
        .all()
    )
    for name in ("map_predictivity", "map_panel"):
        for ext in ("png", "pdf"):
            assert (results / "figures" / "demo_maps" / f"{name}.{ext}").stat().st_size > 5000


@pytest.mark.workflow
def test_arcaro_fixture_workflow(run_snakemake, tmp_path):
    source = tmp_path / "published"
    mat, images, _ = write_monkey(source, "Red", 4, n_images=4)
    for k in range(4):  # real images (the fixture writes placeholder bytes)
        rgb = np.random.default_rng(k).integers(0, 255, (48, 48, 3), dtype=np.uint8)
        from PIL import Image

        Image.fromarray(rgb).save(images / f"scene{k}.jpg", format="JPEG")
    archive = tmp_path / "mirror" / mirror_path(ARCHIVE.url)
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w") as handle:
        for path in [mat, *sorted(images.iterdir())]:
            handle.write(path, f"Arcaro2020/{path.relative_to(source)}")
    config = {
        **BASE,
        "models": ["untrained_resnet18"],
        "maps": {
            **MAPS,
            "datasets": ["arcaro2020_red"],
            "arcaro2020_archive": None,  # downloaded
            "arcaro2020_window": [3, 7],
            "attribution": False,
            "mappings": ["ridge"],
        },
    }
    mirror = {"NEURALIGN_MIRROR": str(tmp_path / "mirror")}
    run_snakemake(config, *targets("arcaro2020_red"), env=mirror)
    results = tmp_path / "results"
    dataset = open_dataset(results / "datasets" / "arcaro2020_red.nc")
    assert dataset["maps"].shape == (4, 4, 9, 9)
    # no checksum is published: the first download is recorded in the lock file
    lock = DownloadLock(tmp_path / "config" / "downloads.lock")
    assert dataset.attrs["source_archive_sha256"] == lock.get(ARCHIVE.url).sha256
    assert lock.get(ARCHIVE.url).sha256 == sha256_file(archive)
    fit = xr.open_dataset(results / "maps" / "arcaro2020_red" / "untrained_resnet18.nc")
    assert fit.attrs["field_degrees"] == 18.0  # 9 positions 2 deg apart, half a step spare
    assert "split_half_ceiling" not in fit  # no repetitions published
    table = pd.read_csv(results / "maps" / "arcaro2020_red.csv")
    assert table["array"].tolist() == ["ML"] and table["model"].tolist() == ["untrained_resnet18"]
    # noise maps: nothing to predict
    assert abs(table["raw"].iloc[0]) < 0.3

    # a user copy that is not the recorded file is refused, naming it and both hashes
    copy = tmp_path / "my_copy.zip"
    copy.write_bytes(archive.read_bytes() + b"changed")
    mine = {**config, "maps": {**config["maps"], "arcaro2020_archive": str(copy)}}
    (results / "datasets" / "arcaro2020_red.nc").unlink()
    proc = run_snakemake(mine, "results/datasets/arcaro2020_red.nc", check=False)
    message = proc.stderr + proc.stdout
    assert proc.returncode != 0 and f"delete {copy} and rerun" in message
    assert sha256_file(copy) in message and lock.get(ARCHIVE.url).sha256 in message
    missing = {**config, "maps": {**config["maps"], "arcaro2020_archive": "nowhere.zip"}}
    proc = run_snakemake(missing, *targets("arcaro2020_red"), check=False)
    assert proc.returncode != 0
    assert "config 'maps.arcaro2020_archive' is 'nowhere.zip', not a file" in proc.stderr


@pytest.mark.workflow
def test_attribution_mapping_must_be_fitted(run_snakemake):
    config = {
        **BASE,
        "maps": {"datasets": ["demo_maps"], "mappings": ["pls"], "attribution_mapping": "ridge"},
    }
    proc = run_snakemake(config, "-n", check=False)
    assert proc.returncode != 0
    message = "maps.attribution_mapping 'ridge' is not one of maps.mappings"
    assert message in proc.stdout + proc.stderr
