"""Starting the workflow (parse, config checks, DAG) imports no deep-learning library: every
dry run, every start of `snakemake` and every SLURM job pays for it."""

import re
import subprocess

import pytest
import yaml

from tests.conftest import REPO, snakemake_command, snakemake_env

pytestmark = pytest.mark.workflow

HEAVY = ("torch", "timm", "torchvision", "sklearn")


def imported_at_start(workdir, config: dict, env: dict) -> set[str]:
    """The top-level packages a dry run of ``config`` imports (``python -X importtime``)."""
    workdir.mkdir()
    cmd = snakemake_command(workdir, config, "-n")
    cmd[1:1] = ["-X", "importtime"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=snakemake_env(env), timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return set(re.findall(r"^import time:.*\|\s+(\w+)$", done.stderr, re.MULTILINE))


def test_the_demo_starts_without_torch_timm_or_scikit_learn(tmp_path):
    """The first start answers the model checks by importing timm and keeps the answers in the
    catalog (neuralign.models.catalog); a later start reads them."""
    config = yaml.safe_load((REPO / "config" / "demo.yaml").read_text())
    del config["model_table"]  # relative to the repository: snakemake_command gives its path
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    first = imported_at_start(tmp_path / "first", config, env)
    assert "timm" in first
    later = imported_at_start(tmp_path / "later", config, env)
    assert not later & set(HEAVY), later & set(HEAVY)
