"""The fMRI experiment through the real workflow, on GOD files written in the published layout:
SIMULATED ones made by rule god_fmri_simulated (the offline demo's route) and, for the checks
before any job and the download from figshare (through a mirror), stand-ins of the real ones."""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml
from PIL import Image

from neuralign import gated
from neuralign.datasets.god_fmri import IMAGE_REQUEST, SUBJECT_FILES, image_name
from neuralign.io.dataset import open_dataset
from neuralign.io.resources import DownloadLock, mirror_path
from tests.conftest import REPO
from tests.datasets.test_god_fmri import write_bdata
from tests.workflow.test_paper_config import LEFT_OUT, planned_jobs

TRAIN = [1518878.0 + k / 1e6 for k in range(10001, 10025)]  # 24 images, shown once
TEST = [1443537.0 + k / 1e6 for k in range(20001, 20007)]  # 6 images, shown 3 times
MEMBERS = {
    "V1": [0, 1, 2],
    "V2": [3, 4],
    "V3": [],
    "V4": [5],
    "LOC": [6, 7],
    "FFA": [],
    "PPA": [8],
    "LVC": [0, 1, 2, 3, 4, 5],
    "HVC": [6, 7, 8],
    "VC": list(range(9)),
}
FMRI_TARGETS = [
    "results/fmri/summary.csv",
    "results/fmri/comparison.csv",
    "results/figures/fmri/roi_layer.png",
    "results/figures/fmri/roi_layer.pdf",
    "results/figures/fmri/roi_layer_encoding.png",
    "results/figures/fmri/roi_layer_encoding.pdf",
]


def write_god(folder, subjects=("Subject1", "Subject2")):
    """Per-subject BData files (training images once, test images 3 times, imagery samples
    left out by the converter) and the stimulus images as JPEG files."""
    samples = [(1, 1, label) for label in TRAIN]
    samples += [(2, 2 + rep, label) for rep in range(3) for label in TEST]
    samples += [(3, 5, 1443537.0)]
    h5_dir = folder / "god"
    h5_dir.mkdir(parents=True)
    for k, subject in enumerate(subjects):
        voxels = np.random.default_rng(k).normal(size=(len(samples), 10))
        write_bdata(h5_dir / f"{subject}.h5", samples, voxels=voxels, members=MEMBERS)
    images = folder / "images"
    for k, label in enumerate(TRAIN + TEST):
        split = "training" if label in TRAIN else "test"
        (images / split).mkdir(parents=True, exist_ok=True)
        pixels = np.random.default_rng(100 + k).integers(0, 255, (32, 40, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(images / split / f"{image_name(label)}.JPEG", "JPEG")
    return h5_dir, images


SIMULATED = {  # 24 training images shown once, 6 test images 3 times; no voxel in V3 or FFA
    "enabled": True,
    "n_train": 24,
    "n_test": 6,
    "n_repetitions": 3,
    "image_size": 40,
    "n_voxels": {"V1": 3, "V2": 2, "V3": 0, "V4": 1, "LOC": 2, "FFA": 0, "PPA": 1},
}


def config(h5_dir, images, **fmri):
    return {
        "datasets": ["demo"],
        "models": ["untrained_resnet18"],
        "activations": {"preprocessing": "brainscore", "image_size": 64, "batch_size": 16},
        "fmri": {
            "subjects": ["Subject1", "Subject2"],
            "h5_dir": str(h5_dir),
            "stimulus_dir": images and str(images),
            "models": {"tiny_a": "timm-untrained:resnet10t", "tiny_b": "timm-untrained:resnet18"},
            "layers": 2,
            "units": 20,
            "n_bootstrap": 100,
            **fmri,
        },
    }


@pytest.mark.workflow
def test_fmri_experiment_end_to_end_on_simulated_subjects(run_snakemake, tmp_path):
    """The offline demo's route: rule god_fmri_simulated writes the GOD files, which the
    experiment converts, fits, summarizes and draws, saying SIMULATED throughout."""
    h5_dir, images = "results/simulated/god", "results/simulated/god_images"
    simulated = config(h5_dir, images, simulated=SIMULATED)
    run_snakemake(simulated, *FMRI_TARGETS)
    results = tmp_path / "results"
    assert sorted(p.name for p in (tmp_path / h5_dir).iterdir()) == ["Subject1.h5", "Subject2.h5"]

    dataset = open_dataset(results / "datasets" / "god_fmri_subject1.nc")
    assert dataset["responses"].shape == (30, 9, 3)
    source = (tmp_path / h5_dir / "Subject1.h5").read_bytes()
    assert dataset.attrs["source_sha256"] == hashlib.sha256(source).hexdigest()
    assert len(dataset.attrs["stimulus_images_sha256"]) == 64
    assert dataset.attrs["simulated"] == 1 and "SIMULATED" in dataset.attrs["description"]

    acts = xr.open_dataset(results / "activations" / "god_fmri" / "tiny_a.nc")
    assert acts.attrs["layers"] == ["layer1.0", "layer4.0"]
    assert acts["layer1.0"].shape == (30, 20)
    assert acts["layer1.0_feature"].attrs["layer_shape"].tolist() == [64, 16, 16]
    assert sorted(acts["stimulus_id"].values) == sorted(dataset["stimulus_id"].values)

    fit = xr.open_dataset(results / "fmri" / "subject2" / "tiny_b.nc")
    assert list(fit["roi"].values) == ["V1", "V2", "V4", "LOC", "PPA", "LVC", "HVC", "VC"]
    assert fit.attrs["rois_absent"] == "V3 FFA" and fit.attrs["n_test"] == 6
    assert fit["decoding_r"].shape == (8, 2, 20) and fit["encoding_r"].shape == (2, 9)
    assert np.isfinite(fit["decoding_median"]).all() and np.isfinite(fit["encoding_r"]).all()
    assert fit.attrs["subject"] == "Subject2" and fit.attrs["model_source"].endswith("resnet18")
    assert fit.attrs["simulated"] == 1

    summary = pd.read_csv(results / "fmri" / "summary.csv")
    assert len(summary) == 2 * 3 * 8 * 2 * 2  # direction, subject/all, roi, layer, model
    assert set(summary["subject"]) == {"Subject1", "Subject2", "all"}
    assert summary["median_r"].notna().all() and (summary["simulated"] == 1).all()
    mean = summary.query("direction == 'decoding' and roi == 'V1' and layer_index == 1")
    mean = mean.set_index(["model", "subject"])["median_r"]
    for model in ("tiny_a", "tiny_b"):
        assert mean[model, "all"] == pytest.approx(
            (mean[model, "Subject1"] + mean[model, "Subject2"]) / 2
        )

    comparison = pd.read_csv(results / "fmri" / "comparison.csv")
    pooled = comparison[comparison["subject"] == "all"]
    assert len(pooled) == 2 * 8 * 2 and (pooled["n_subjects"] == 2).all()
    assert set(pooled["model_a"]) == {"tiny_a"} and set(pooled["model_b"]) == {"tiny_b"}
    assert pooled["p_bootstrap"].between(0, 1).all() and pooled["p_wilcoxon"].notna().all()
    np.testing.assert_allclose(
        pooled["difference"], pooled["median_r_a"] - pooled["median_r_b"], atol=1e-12
    )

    for name in ("roi_layer", "roi_layer_encoding"):
        for suffix in ("png", "pdf"):
            assert (results / "figures" / "fmri" / f"{name}.{suffix}").stat().st_size > 5000
    assert "Nothing to be done" in run_snakemake(simulated, "-n", *FMRI_TARGETS).stdout


@pytest.mark.workflow
def test_a_simulation_never_writes_where_the_real_files_go(run_snakemake, tmp_path):
    simulated = config("resources/god_fmri", "results/images", simulated=SIMULATED)
    proc = run_snakemake(simulated, check=False)
    assert proc.returncode != 0
    assert "where the real GOD files belong" in proc.stdout + proc.stderr
    assert not (tmp_path / "resources").exists() and not (tmp_path / "results").exists()


@pytest.mark.workflow
def test_paper_config_plans_the_fmri_experiment_on_gpus(run_snakemake, tmp_path):
    """config/config.yaml's fMRI section, pointed at synthetic files, plans every job of the
    experiment through `rule all`, with GPUs for extraction and fitting."""
    h5_dir, images = write_god(
        tmp_path / "god_files", subjects=[f"Subject{k}" for k in range(1, 6)]
    )
    paper = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    paper["model_table"] = str(REPO / "config" / "models.tsv")
    paper["fmri"].update(h5_dir=str(h5_dir), stimulus_dir=str(images))
    paper["maps"]["datasets"] = []
    jobs = planned_jobs(run_snakemake(paper, "-n").stdout)
    counts = pd.Series([rule for rule, _ in jobs]).value_counts()
    assert counts["god_fmri_dataset"] == 5 and counts["fmri_activations"] == 2
    assert counts["fmri_fit"] == 10 and counts["fmri_summary"] == 1 and counts["figure_fmri"] == 1
    for rule, resources in jobs:
        if rule.startswith(("fmri", "god_fmri", "figure_fmri")):
            assert ("gpu=1" in resources) == (rule in ("fmri_activations", "fmri_fit")), rule


@pytest.mark.workflow
def test_without_stimulus_images_the_experiment_is_left_out(run_snakemake, tmp_path):
    """The images are gated (on request): the rest runs, one line says what is missing and
    how to get it, and the subjects' files are not downloaded."""
    (tmp_path / "empty").mkdir()
    proc = run_snakemake(config("resources/god_fmri", tmp_path / "empty"), "-n")
    lines = [line for line in proc.stderr.splitlines() if line.startswith(LEFT_OUT)]
    assert len(lines) == 1 and "fMRI experiment" in lines[0] and IMAGE_REQUEST in lines[0]
    assert "holds no images" in lines[0]
    rules = {rule for rule, _ in planned_jobs(proc.stdout)}
    assert "download" not in rules and not any("fmri" in rule for rule in rules)
    assert {"left_out", "fit"} <= rules
    assert "it is not set" in gated.god_stimuli(None).missing


@pytest.mark.workflow
def test_incomplete_stimulus_images_stop_before_any_job(run_snakemake, tmp_path):
    h5_dir, full = write_god(tmp_path / "god_files")
    next((full / "test").iterdir()).unlink()
    proc = run_snakemake(config(h5_dir, full), check=False)
    assert proc.returncode != 0
    message = proc.stdout + proc.stderr
    assert "config 'fmri.stimulus_dir'" in message and IMAGE_REQUEST in message
    assert "1 of 30 stimulus images are missing" in message
    assert "fmri.subjects: []" in message
    assert not (tmp_path / "results").exists()


@pytest.mark.workflow
def test_subject_files_are_downloaded_from_figshare_and_verified_by_md5(run_snakemake, tmp_path):
    """Missing subject files get download jobs; through a mirror holding figshare's file listing
    (md5 and size per file) the file is fetched, verified, pinned in the lock file and
    converted; a file whose md5 differs from the listing is refused."""
    h5_dir, images = write_god(tmp_path / "god_files", subjects=["Subject1"])
    mirror = tmp_path / "mirror"
    remote = SUBJECT_FILES["Subject1"]
    published = (h5_dir / "Subject1.h5").read_bytes()
    listing = [
        {
            "id": remote.file_id,
            "name": "Subject1.h5",
            "size": len(published),
            "computed_md5": hashlib.md5(published).hexdigest(),
        },
    ]
    for url, content in [
        (remote.url, published),
        (remote.listing_url, json.dumps(listing).encode()),
    ]:
        (mirror / mirror_path(url)).parent.mkdir(parents=True, exist_ok=True)
        (mirror / mirror_path(url)).write_bytes(content)
    settings = config("resources/god_fmri", images, subjects=["Subject1"])
    plan = run_snakemake(settings, "-n").stdout
    assert "output: resources/god_fmri/Subject1.h5" in plan
    target = "results/datasets/god_fmri_subject1.nc"
    run_snakemake(settings, target, env={"NEURALIGN_MIRROR": str(mirror)})
    assert (tmp_path / "resources" / "god_fmri" / "Subject1.h5").read_bytes() == published
    lock = DownloadLock(tmp_path / "config" / "downloads.lock")
    assert lock.get(remote.url).sha256 == hashlib.sha256(published).hexdigest()
    assert open_dataset(tmp_path / target).attrs["source_sha256"] == lock.get(remote.url).sha256

    listing[0]["computed_md5"] = "0" * 32
    (mirror / mirror_path(remote.listing_url)).write_text(json.dumps(listing))
    (tmp_path / "resources" / "god_fmri" / "Subject1.h5").unlink()
    h5 = "resources/god_fmri/Subject1.h5"
    proc = run_snakemake(settings, h5, env={"NEURALIGN_MIRROR": str(mirror)}, check=False)
    assert proc.returncode != 0 and "md5 is" in proc.stdout + proc.stderr
    assert not (tmp_path / "resources" / "god_fmri" / "Subject1.h5").exists()
