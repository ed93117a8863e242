"""The paper config on a fresh clone (no resources/): a dry run plans a download job for every
public file, leaves out the stages whose gated inputs are missing with one line each, and asks
for a GPU exactly for the GPU stages; with the gated inputs present, those stages come back."""

import re
import subprocess
import sys

import pandas as pd
import yaml

from neuralign.datasets import majajhong2015
from neuralign.datasets.arcaro2020 import ARCHIVE
from neuralign.datasets.god_fmri import SUBJECT_FILES
from neuralign.io.resources import resource_path
from neuralign.models.sources import harmonized as harmonized_models
from neuralign.models.sources import robust as robust_models
from neuralign.models.table import read_model_table, weights_download
from tests.conftest import REPO

PAPER_CONFIG = REPO / "config" / "config.yaml"
MODEL_TABLE = REPO / "config" / "models.tsv"

# Rules that run a network or a solver on `device: cuda`; every other job runs on CPUs.
GPU_RULES = {
    "activations",
    "fit",
    "alignment_fit",
    "fmri_activations",
    "fmri_fit",
    "map_fit",
    "harmonize",
    "human_alignment",
    "imagenet_accuracy",
}
LEFT_OUT = "neuralign: left out "


def planned_jobs(stdout: str) -> list[tuple[str, str]]:
    """(rule, resources line) of every job in a dry run's output."""
    jobs = re.findall(r"^(?:local)?rule (\w+):\n(.*?)(?=^\S|\Z)", stdout, re.M | re.S)
    return [(rule, next(iter(re.findall(r"resources: (.*)", body)), "")) for rule, body in jobs]


def downloads_planned(stdout: str) -> set[str]:
    """Output files of the planned download jobs."""
    return set(re.findall(r"^rule download:\n    output: (\S+)$", stdout, re.M))


def dry_run(workdir, *targets: str) -> subprocess.CompletedProcess:
    """`snakemake -n` of the shipped config/config.yaml in ``workdir`` (a fresh clone's state:
    no resources/, no results/)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            *targets,  # before --configfile/--config, which take several values
            "-n",
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(workdir),
            "--configfile",
            str(PAPER_CONFIG),
            "--config",
            f"model_table={MODEL_TABLE}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )


def public_files(config: dict) -> set[str]:
    """Every public file the paper config needs: MajajHong2015, the Arcaro archive, and the
    weights of every model of the table (hub, robust, the harmonized Keras and weights-only
    files)."""
    table = read_model_table(MODEL_TABLE)
    weights = set()
    for model in table.index:
        weights |= set(weights_download(table.loc[model, "source"], table.loc[model, "url"]))
    majaj = {
        resource_path(remote)
        for remote in (
            majajhong2015.ASSEMBLY,
            majajhong2015.STIMULUS_CSV,
            majajhong2015.STIMULUS_ZIP,
        )
    }
    assert config["maps"]["arcaro2020_archive"] is None
    return weights | majaj | {resource_path(ARCHIVE)}


def test_fresh_clone_dry_run_downloads_public_files_and_leaves_out_gated_stages(tmp_path):
    config = yaml.safe_load(PAPER_CONFIG.read_text())
    proc = dry_run(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    jobs = planned_jobs(proc.stdout)
    rules = {rule for rule, _ in jobs}

    # a download job for each public file, and nothing else downloaded
    downloads = downloads_planned(proc.stdout)
    assert downloads == public_files(config)
    assert {robust_models.checkpoint_path(name) for name in robust_models.CHECKPOINTS} <= downloads
    harmonized = [
        f"resources/harmonized/{name}"
        for name in (
            "vgg16_harmonized.h5",
            "resnet50v2_harmonized.h5",
            "efficientnetB0_harmonized.h5",
        )
    ]
    assert set(harmonized) <= downloads
    # the weights-only harmonized models, at the resource path of their registered URL
    weights_only = {harmonized_models.weights_path(name) for name in harmonized_models.MODELS}
    assert len(weights_only) == 4 and weights_only <= downloads
    assert len(downloads) >= 160

    # one line per gated stage left out: the GOD stimulus images, the ImageNet val images
    lines = [line for line in proc.stderr.splitlines() if line.startswith(LEFT_OUT)]
    assert len(lines) == 2, proc.stderr
    assert "fMRI experiment" in lines[0] and "forms.gle" in lines[0]
    assert "ImageNet top-1 of vgg16_harmonized" in lines[1] and "image-net.org" in lines[1]
    assert not any("figshare" in path for path in downloads)  # no gigabytes for a stage left out
    assert not rules & {"god_fmri_dataset", "fmri_fit", "imagenet_accuracy", "imagenet_summary"}
    assert "left_out" in rules

    # the rest runs: every model scored, the Arcaro maps, with GPUs for the GPU stages
    assert {"majajhong2015_dataset", "activations", "fit", "scores"} <= rules
    assert {"arcaro_dataset", "map_fit", "figure_map_panel"} <= rules
    assert {"alignment_ceilings", "alignment_fit", "metric_trends", "figure_metric_panel"} <= rules
    for rule, resources in jobs:
        assert ("gpu=1" in resources) == (rule in GPU_RULES), (rule, resources)
    n_models = len(pd.read_csv(MODEL_TABLE, sep="\t", comment="#"))
    assert n_models >= 120
    n_activations = sum(rule == "activations" for rule, _ in jobs)
    extracted = config["datasets"] + config["maps"]["datasets"]  # the Arcaro monkeys too
    assert n_activations == n_models * len(extracted)
    table = pd.read_csv(MODEL_TABLE, sep="\t", comment="#")
    for model in table.loc[table["family"].isin(["self-supervised", "harmonized"]), "id"]:
        for dataset in extracted:
            assert f"output: results/activations/{dataset}/{model}.nc" in proc.stdout, model
    n_map_fits = sum(rule == "map_fit" for rule, _ in jobs)
    assert n_map_fits == n_models * len(config["maps"]["datasets"])
    # extraction waits for the downloaded weights (a local rule, before the GPU jobs)
    blocks = re.findall(r"^rule activations:\n(.*?)(?=^\S|\Z)", proc.stdout, re.M | re.S)
    for model, weights in [
        ("vgg16_harmonized", harmonized[0]),
        ("vit_b16_harmonized", harmonized_models.weights_path("vit_b16")),
    ]:
        found = [block for block in blocks if f"model={model}" in block]
        assert len(found) == len(extracted), model  # one extraction per dataset
        for block in found:
            assert f"input: {weights}" in block.replace(", ", "\n    input: "), model


def test_downloads_target_prefetches_everything_the_run_reads(tmp_path):
    proc = dry_run(tmp_path, "downloads")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert {rule for rule, _ in planned_jobs(proc.stdout)} == {"download", "downloads"}
    assert downloads_planned(proc.stdout) == public_files(yaml.safe_load(PAPER_CONFIG.read_text()))


def test_with_the_gated_inputs_present_their_stages_come_back(tmp_path):
    """Stimulus images and an ImageNet val folder: the GOD files are downloaded (md5 from
    figshare) and the fMRI experiment planned; the harmonized models' top-1 is measured and the
    scores and map tables wait for it."""
    config = yaml.safe_load(PAPER_CONFIG.read_text())
    images = tmp_path / config["fmri"]["stimulus_dir"]
    images.mkdir(parents=True)
    (images / "n01518878_10042.JPEG").write_bytes(b"")
    (tmp_path / config["imagenet"]["val_dir"] / "n01440764").mkdir(parents=True)
    proc = dry_run(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert LEFT_OUT not in proc.stderr
    downloads = downloads_planned(proc.stdout)
    god = {f"resources/god_fmri/{subject}.h5" for subject in SUBJECT_FILES}
    assert god <= downloads
    assert {"god_fmri_dataset", "fmri_fit", "figure_fmri", "imagenet_accuracy"} <= {
        rule for rule, _ in planned_jobs(proc.stdout)
    }
    table = pd.read_csv(MODEL_TABLE, sep="\t", comment="#")
    harmonized = table.loc[table["family"] == "harmonized", "id"].tolist()
    measured = {f"results/imagenet/{model}.csv" for model in harmonized}
    outputs = set(re.findall(r"^    output: (results/imagenet/\S+\.csv)$", proc.stdout, re.M))
    assert len(harmonized) == 7 and outputs == measured
    for rule, target in [("scores", "results/scores/"), ("map_scores", "results/maps/")]:
        inputs = re.findall(
            rf"^rule {rule}:\n    input: (.*)\n    output: {target}", proc.stdout, re.M
        )
        assert inputs and all(measured <= set(line.split(", ")) for line in inputs), rule
