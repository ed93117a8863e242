"""Trustworthy artifacts through the real workflow, on one small run of every demo analysis:
provenance on every file under results/, verified cache hits, a cache that cannot be written,
an unreadable intermediate, an extraction job killed mid-write, and a run from elsewhere; and
the harmonizer demo's summary, which only this run makes."""

import os
import shutil
import signal
import socket
import subprocess
import time

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from neuralign.fitting.alignment.registry import METRICS
from neuralign.io.artifacts import KEYS, read_provenance
from neuralign.io.cache import entry_path, sidecar_path
from neuralign.io.resources import sha256_file
from tests.conftest import REPO, read_only, run_workflow, snakemake_command, snakemake_env

pytestmark = pytest.mark.workflow

# every analysis of config/demo.yaml, small
DEMO = {
    "datasets": ["demo"],
    "models": ["untrained_resnet18"],
    "demo": {"n_stimuli": 60, "n_neurons": 6, "n_repetitions": 4, "image_size": 64},
    "activations": {"batch_size": 16, "image_size": 64, "reduction": {"grid": 2}},
    "fitting": {"n_splits": 3, "train_size": 0.75, "n_bootstrap": 100},
    "maps": {
        "datasets": ["demo_maps"],
        "demo": {"n_images": 4, "n_neurons": 4, "n_repetitions": 4, "grid": 5, "image_size": 64},
        "feature_grid": 6,
        "n_bootstrap": 100,
        "ceiling_splits": 2,
    },
    "fmri": {
        "subjects": ["Subject1", "Subject2"],
        "h5_dir": "results/simulated/god_fmri",
        "stimulus_dir": "results/simulated/god_fmri_images",
        "simulated": {
            "enabled": True,
            "n_train": 24,
            "n_test": 6,
            "n_repetitions": 3,
            "image_size": 64,
        },
        "models": {"tiny_a": "timm-untrained:resnet10t", "tiny_b": "timm-untrained:resnet18"},
        "layers": 2,
        "units": 20,
        "n_bootstrap": 100,
    },
    "harmonizer": {"demo": {"enabled": True, "n_train": 64, "n_test": 32, "epochs": 1}},
    "metrics": sorted(METRICS),
    "metric_panel": {"n_splits": 2, "n_bootstrap": 100},
}
MODEL = "untrained_resnet18"
ACTIVATIONS = f"results/activations/demo/{MODEL}.nc"
LOG = f"results/logs/activations/demo/{MODEL}.log"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A finished run of every demo analysis (read only: tests that change it use a copy)."""
    workdir = tmp_path_factory.mktemp("demo")
    run_workflow(workdir, DEMO)
    return workdir


@pytest.fixture
def copy(demo, tmp_path):
    """A copy of the finished demo run (files, times and Snakemake's records) to change."""
    workdir = tmp_path / "run"
    shutil.copytree(demo, workdir, symlinks=True)
    return workdir


def artifacts(results):
    """Every file under ``results/`` except logs, benchmarks, stimulus images (the folders
    named ``*images``) and the cache's size/checksum records."""
    for path in sorted(results.rglob("*")):
        parts = path.relative_to(results).parts
        if path.is_dir() or parts[0] in ("logs", "benchmarks"):
            continue
        if any(part.endswith("images") for part in parts[:-1]):
            continue
        if parts[0] == "cache" and path.suffix == ".json":
            continue
        yield path


def layers(path):
    with xr.open_dataset(path) as ds:
        return {name: ds[name].values for name in ds.data_vars}


def assert_same_features(path, reference):
    got, expected = layers(path), layers(reference)
    assert got.keys() == expected.keys()
    for name in expected:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-5, atol=1e-6, err_msg=name)


def test_every_artifact_says_what_produced_it(demo):
    results = demo / "results"
    found = list(artifacts(results))
    kinds = {path.suffix for path in found}
    assert kinds == {".nc", ".csv", ".png", ".pdf", ".h5"}, kinds
    stages = {path.relative_to(results).parts[0] for path in found}
    assert stages == {
        "activations",
        "alignment",
        "cache",
        "ceilings",
        "datasets",
        "figures",
        "fits",
        "fmri",
        "harmonizer",
        "maps",
        "scores",
        "simulated",
        "tables",
    }
    for path in found:
        provenance = read_provenance(path)
        where = path.relative_to(demo)
        assert set(KEYS) <= provenance.keys(), (where, provenance)
        assert provenance["simulated"] == 1, where  # every demo datum is SIMULATED
        assert provenance["neuralign_version"] and len(provenance["config_sha256"]) == 64
        assert provenance["git_describe"], where
        assert provenance["dataset"], where
        parts = where.parts
        if (
            parts[1] in ("activations", "alignment", "fits", "maps", "fmri")
            and path.suffix == ".nc"
        ):
            assert provenance["model"] == path.stem, where  # results/<stage>/<x>/<model>.nc
        if parts[1] in ("datasets", "ceilings", "activations", "fits", "maps", "scores"):
            name = parts[2].removesuffix(path.suffix).removesuffix("_metrics")
            assert provenance["dataset"] == name, where
    rules = {read_provenance(path)["rule"] for path in found}
    assert {
        "demo_dataset",
        "ceiling",
        "fit",
        "scores",
        "map_fit",
        "harmonizer_demo",
        "alignment_fit",
        "metric_scores",
    } <= rules
    # the cache's entries are recorded with their size and sha256
    for entry in (results / "cache").rglob("*.nc"):
        record = yaml.safe_load(sidecar_path(entry).read_text())
        assert record["size"] == entry.stat().st_size and record["sha256"] == sha256_file(entry)
    assert not list(results.rglob(".*.tmp"))


def test_the_harmonizer_demo_compares_the_harmonized_and_the_plain_network(demo):
    summary = pd.read_csv(demo / "results" / "harmonizer" / "demo" / "summary.csv")
    assert summary["lambda"].tolist() == [2.0, 0.0]
    assert summary[["shortcut_free_accuracy", "human_alignment"]].notna().all().all()
    for suffix in ("png", "pdf"):
        figure = demo / "results" / "figures" / "harmonizer" / f"demo.{suffix}"
        assert figure.stat().st_size > 5000


def test_the_config_hash_changes_with_the_rules_options_and_only_then(copy):
    results = copy / "results"
    before = {path: read_provenance(path) for path in artifacts(results)}
    mtimes = {path: path.stat().st_mtime_ns for path in before}
    config = yaml.safe_load((copy / "config.yaml").read_text())
    # read by rules ceiling, fit, accuracy_correlations and metric_trends (its trend CIs)
    config["fitting"]["n_bootstrap"] = 150
    run_workflow(copy, config)
    changed, rewritten = set(), set()
    for path, old in before.items():
        new = read_provenance(path)
        assert new["rule"] == old["rule"]
        if new["config_sha256"] != old["config_sha256"]:
            changed.add(old["rule"])
        elif path.stat().st_mtime_ns != mtimes[path]:
            rewritten.add(old["rule"])
    assert changed == {"ceiling", "fit", "accuracy_correlations", "metric_trends"}
    # rerun because their inputs changed, with their own options unchanged: the same hash
    assert {"scores", "figure_accuracy_vs_predictivity"} <= rewritten


def test_a_truncated_cache_entry_is_evicted_and_recomputed_with_a_warning(copy):
    output = copy / ACTIVATIONS
    reference = copy / "reference.nc"
    shutil.copy(output, reference)
    with xr.open_dataset(output) as ds:
        entry = entry_path(copy / "results/cache/activations", ds.attrs["cache_key"])
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
    output.unlink()
    run_workflow(copy, DEMO, ACTIVATIONS)
    log = (copy / LOG).read_text()
    assert f"cache entry {entry.relative_to(copy)} is not valid" in log
    assert "evicting it and recomputing" in log and "miss: extracted" in log
    assert_same_features(output, reference)
    assert "cache_hit_date" not in xr.open_dataset(output).attrs  # computed, not copied
    assert entry.read_bytes() == output.read_bytes()  # the entry is whole again


def test_a_read_only_cache_costs_a_warning_not_the_output(copy):
    output = copy / ACTIVATIONS
    reference = copy / "reference.nc"
    shutil.copy(output, reference)
    cache = copy / "results/cache/activations"
    shutil.rmtree(cache)
    cache.mkdir()
    output.unlink()
    with read_only(cache):
        run_workflow(copy, DEMO, ACTIVATIONS)
        assert not list(cache.iterdir())
    log = (copy / LOG).read_text()
    assert "could not store" in log and "the output is complete" in log
    assert_same_features(output, reference)
    assert read_provenance(output) == read_provenance(reference)


def test_an_unreadable_activations_file_names_itself_and_how_to_recompute(copy):
    output = copy / ACTIVATIONS
    output.write_bytes(output.read_bytes()[: output.stat().st_size // 2])
    proc = run_workflow(copy, DEMO, f"results/fits/demo/{MODEL}.nc", check=False)
    assert proc.returncode != 0
    log = (copy / f"results/logs/fits/demo/{MODEL}.log").read_text()
    for text in (
        f"{ACTIVATIONS}: cannot be read as netCDF",
        "delete it and rerun snakemake to recompute it",
        f"--forcerun {ACTIVATIONS}",
    ):
        assert text in log, log


def test_an_extraction_job_killed_mid_write_leaves_nothing_a_rerun_keeps(copy):
    output = copy / ACTIVATIONS
    reference = copy / "reference.nc"
    shutil.copy(output, reference)
    output.unlink()
    shutil.rmtree(copy / "results/cache")
    config = {**DEMO, "activations": {**DEMO["activations"], "batch_size": 4}}  # slower
    job = subprocess.Popen(
        snakemake_command(copy, config, ACTIVATIONS),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=snakemake_env(),
    )
    prefix = f".{output.name}.{socket.gethostname()}."
    deadline = time.monotonic() + 600
    temps = []
    while not temps and job.poll() is None and time.monotonic() < deadline:
        temps = [p for p in output.parent.glob(f"{prefix}*.tmp")] if output.parent.is_dir() else []
        time.sleep(0.02)
    assert temps, "the extraction job never wrote its temporary file"
    pid = int(temps[0].name[len(prefix) :].split(".")[0])
    os.kill(pid, signal.SIGKILL)  # the job process, whose pid names the temporary file
    assert job.wait(timeout=300) != 0
    assert temps[0].exists() and not output.exists()  # the killed writer's partial file
    run_workflow(copy, config, ACTIVATIONS)
    assert_same_features(output, reference)
    assert not list(copy.joinpath("results").rglob(".*.tmp"))


def test_a_run_from_another_directory_names_the_config_key_of_a_missing_file(tmp_path):
    proc = subprocess.run(
        [
            *snakemake_command(tmp_path, {})[:3],
            "-s",
            str(REPO / "Snakefile"),
            "--configfile",
            str(REPO / "config" / "demo.yaml"),
            "-n",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=snakemake_env(),
    )
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert "config 'model_table': config/models_demo.tsv does not exist" in output, output
    assert str(REPO / "config" / "models_demo.tsv") in output
