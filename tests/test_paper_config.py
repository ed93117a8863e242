"""A dry run of the paper config plans every job, with a GPU for the GPU stages."""

import re
import subprocess
import sys

import pandas as pd
import yaml
from conftest import REPO

from neuralign import harmonized_models, robust_models

PAPER_CONFIG = REPO / "config" / "config.yaml"
MODEL_TABLE = REPO / "config" / "models.tsv"

# Rules that run a network or a solver on `device: cuda`; every other job runs on CPUs.
GPU_RULES = {
    "activations",
    "fit",
    "fmri_activations",
    "fmri_fit",
    "map_activations",
    "map_fit",
    "harmonize",
    "human_alignment",
    "imagenet_accuracy",
}


def planned_jobs(stdout: str) -> list[tuple[str, str]]:
    """(rule, resources line) of every job in a dry run's output."""
    jobs = re.findall(r"^(?:local)?rule (\w+):\n(.*?)(?=^\S|\Z)", stdout, re.M | re.S)
    return [(rule, next(iter(re.findall(r"resources: (.*)", body)), "")) for rule, body in jobs]


def stand_in_fmri_data(config: dict, workdir) -> None:
    """Empty stand-ins for the GOD fMRI files, which are checked when the workflow is parsed
    (they cannot be downloaded in a test); the built datasets make the parse skip the stimuli."""
    fmri = config.get("fmri") or {}
    for subject in fmri.get("subjects", []):
        h5 = workdir / fmri["h5_dir"] / f"{subject}.h5"
        h5.parent.mkdir(parents=True, exist_ok=True)
        h5.touch()
        dataset = workdir / "results" / "datasets" / f"god_fmri_{subject.lower()}.nc"
        dataset.parent.mkdir(parents=True, exist_ok=True)
        dataset.touch()


def stand_in_arcaro_archive(config: dict, workdir) -> None:
    """An empty stand-in for the user-provided Arcaro archive (a dry run does not open it)."""
    archive = workdir / config["maps"]["arcaro2020_archive"]
    archive.parent.mkdir(parents=True, exist_ok=True)
    archive.touch()


def stand_in_user_files(config: dict, workdir) -> list[str]:
    """Empty stand-ins for the harmonized models (Keras models and weights-only files) and the
    ImageNet validation folder (user-provided, checked when the workflow is parsed); returns
    the harmonized model ids."""
    table = pd.read_csv(MODEL_TABLE, sep="\t", comment="#")
    harmonized = table[table["family"] == "harmonized"]
    for source in harmonized["source"]:
        kind, _, name = source.partition(":")
        path = workdir / (harmonized_models.weights_path(name) if kind == "harmonized" else name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    (workdir / config["imagenet"]["val_dir"]).mkdir(parents=True)
    return harmonized["id"].tolist()


def test_paper_dry_run_requests_gpus_for_extraction_and_fitting(tmp_path):
    config = yaml.safe_load(PAPER_CONFIG.read_text())
    stand_in_fmri_data(config, tmp_path)
    stand_in_arcaro_archive(config, tmp_path)
    harmonized = stand_in_user_files(config, tmp_path)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-n",
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(tmp_path),
            "--configfile",
            str(PAPER_CONFIG),
            "--config",
            f"model_table={MODEL_TABLE}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    jobs = planned_jobs(proc.stdout)
    rules = {rule for rule, _ in jobs}
    assert {"download", "majajhong2015_dataset", "activations", "fit", "scores"} <= rules
    assert {"arcaro_dataset", "map_fit", "figure_map_panel", "fmri_fit", "figure_fmri"} <= rules
    for rule, resources in jobs:
        wants_gpu = "gpu=1" in resources
        assert wants_gpu == (rule in GPU_RULES), (rule, resources)
    n_models = len(pd.read_csv(MODEL_TABLE, sep="\t", comment="#"))
    assert n_models >= 120
    n_activations = sum(rule == "activations" for rule, _ in jobs)
    assert n_activations == n_models * len(config["datasets"])
    table = pd.read_csv(MODEL_TABLE, sep="\t", comment="#")
    for model in table.loc[table["family"].isin(["self-supervised", "harmonized"]), "id"]:
        for dataset in config["datasets"]:
            assert f"output: results/activations/{dataset}/{model}.nc" in proc.stdout, model
    n_map_fits = sum(rule == "map_fit" for rule, _ in jobs)
    assert n_map_fits == n_models * len(config["maps"]["datasets"])
    # robust: checkpoints are published with a sha256, so rule download fetches them
    downloads = set(re.findall(r"^    output: (resources/\S+)$", proc.stdout, re.M))
    assert set(robust_models.remote_files()) <= downloads
    # harmonized models: their top-1 is measured, and the scores and map tables wait for it
    measured = {f"results/imagenet/{model}.csv" for model in harmonized}
    outputs = set(re.findall(r"^    output: (results/imagenet/\S+\.csv)$", proc.stdout, re.M))
    assert len(harmonized) == 7 and outputs == measured
    for rule, target in [("scores", "results/scores/"), ("map_scores", "results/maps/")]:
        inputs = re.findall(
            rf"^rule {rule}:\n    input: (.*)\n    output: {target}", proc.stdout, re.M
        )
        assert inputs and all(measured <= set(line.split(", ")) for line in inputs), rule
