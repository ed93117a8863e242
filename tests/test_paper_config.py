"""A dry run of the paper config plans every job, with a GPU for the GPU stages."""

import re
import subprocess
import sys

from conftest import REPO


def planned_jobs(stdout: str) -> list[tuple[str, str]]:
    """(rule, resources line) of every job in a dry run's output."""
    jobs = re.findall(r"^(?:local)?rule (\w+):\n(.*?)(?=^\S|\Z)", stdout, re.M | re.S)
    return [(rule, next(iter(re.findall(r"resources: (.*)", body)), "")) for rule, body in jobs]


def test_paper_dry_run_requests_gpus_for_extraction_and_fitting(tmp_path):
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
            str(REPO / "config" / "config.yaml"),
            "--config",
            f"model_table={REPO / 'config' / 'models.tsv'}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    jobs = planned_jobs(proc.stdout)
    rules = {rule for rule, _ in jobs}
    assert {"download", "majajhong2015_dataset", "activations", "fit", "scores"} <= rules
    for rule, resources in jobs:
        wants_gpu = "gpu=1" in resources
        assert wants_gpu == (rule in ("activations", "fit")), (rule, resources)
    n_models = len((REPO / "config" / "models.tsv").read_text().splitlines()) - 1
    assert sum(rule == "activations" for rule, _ in jobs) == n_models
