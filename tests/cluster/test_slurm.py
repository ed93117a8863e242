"""The workflow through profiles/slurm on a real single-node Slurm cluster (issue #10)."""

import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from .slurm import PARTITION, SlurmCluster, existing_slurm, install, node_memory_mb

pytestmark = pytest.mark.slurm

PROFILE = Path(__file__).resolve().parents[2] / "profiles" / "slurm"
ACCOUNT = "neuralign-ci"
CONFIG = {
    "datasets": ["demo"],
    "models": ["untrained_resnet18"],
    "demo": {"n_stimuli": 120, "n_neurons": 6, "n_repetitions": 4, "image_size": 64},
    "activations": {"device": "cpu", "batch_size": 16},
    "fitting": {"n_splits": 3, "n_bootstrap": 200},
}
MEMORY_MB = 8000  # of the activations and fit rules


@pytest.fixture(scope="module")
def cluster():
    """A Slurm cluster of this machine, installed with apt-get if needed."""
    if os.geteuid() != 0:
        pytest.skip("starts Slurm's daemons and may install Slurm: needs root")
    if conf := existing_slurm():
        pytest.skip(f"{conf} exists: this machine has a Slurm of its own")
    if node_memory_mb() < MEMORY_MB:
        pytest.skip(
            f"the activations and fit jobs ask for {MEMORY_MB} MB, more than this node offers"
        )
    try:
        install()
    except (OSError, subprocess.SubprocessError) as error:
        pytest.skip(f"cannot install slurm-wlm and munge with apt-get: {error}")
    with SlurmCluster() as cluster:
        yield cluster


def slurm_args() -> list[str]:
    """The profile, with the activations job asking for a GPU and 2 CPUs while it computes on
    the CPU."""
    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())
    # --set-resources on the command line replaces the profile's, so they are repeated
    resources = [
        f"{rule}:{name}={value}"
        for rule, values in profile["set-resources"].items()
        for name, value in values.items()
    ]
    return [
        "--profile",
        str(PROFILE),
        "--set-resources",
        *resources,
        "activations:gpu=1",
        "--set-threads",
        "activations=2",
        # no accounting database here: job states come from squeue (MinJobAge is an hour)
        "--slurm-status-command",
        "squeue",
        "--slurm-init-seconds-before-status-checks",
        "2",
    ]


def submitted_rules(run_snakemake) -> list[str]:
    """Rules of the jobs Snakemake ran, from its own summary, less the local ones."""
    summary = run_snakemake(CONFIG, "--summary").stdout.splitlines()
    header = summary.index(next(line for line in summary if line.startswith("output_file")))
    rules = {line.split("\t")[2] for line in summary[header + 1 :] if line.strip()}
    return sorted(rules - {"download", "all"})


def test_workflow_runs_through_slurm(cluster, run_snakemake, tmp_path):
    env = {
        **cluster.env,
        "NEURALIGN_SLURM_PARTITION": PARTITION,
        "NEURALIGN_SLURM_ACCOUNT": ACCOUNT,
    }
    run_snakemake(CONFIG, *slurm_args(), env=env)

    scores = pd.read_csv(tmp_path / "results" / "scores" / "demo.csv")
    assert scores["model"].tolist() == ["untrained_resnet18"]
    assert (tmp_path / "results" / "figures" / "demo" / "accuracy_vs_predictivity.pdf").exists()

    # the scheduler's own record of each job; the plugin names the rule in the job's comment
    records = cluster.jobs()
    jobs = {job["Comment"].removeprefix("rule_").split("_wildcards_")[0]: job for job in records}
    assert sorted(jobs) == submitted_rules(run_snakemake) and len(records) == len(jobs)
    for rule, job in jobs.items():
        assert job["JobState"] == "COMPLETED", rule
        assert (job["Partition"], job["Account"]) == (PARTITION, ACCOUNT), rule
        gpu = rule == "activations"
        assert (job.get("TresPerJob") == "gres:gpu:1") is gpu, rule  # requested
        assert (job["JOB_GRES"] == "gpu:1") is gpu, rule  # allocated
    cpus_memory = {rule: (job["NumCPUs"], job["MinMemoryNode"]) for rule, job in jobs.items()}
    assert cpus_memory["activations"] == ("2", f"{MEMORY_MB}M")  # the job's threads, mem_mb
    assert cpus_memory["demo_dataset"] == ("1", "2000M")  # the profile's set-resources
