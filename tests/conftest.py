import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
# activations options of Brain-Score's preprocessing at 64 px (the models' own is 224 px): quick
# extraction, for workflow tests where the image size does not matter
SMALL_IMAGES = {"preprocessing": "brainscore", "image_size": 64}
MIRROR = Path(os.environ.get("NEURALIGN_MIRROR", REPO.parent / "shared" / "mirror"))


def pytest_collection_modifyitems(items):
    """Modules that run the real workflow (tests/workflow, and those with ``workflow``-marked
    tests) first: pytest-xdist's ``--dist loadfile`` hands out modules in this order, so the
    short unit-test modules fill the end of a run instead of one worker finishing a long
    module alone."""
    slow = {item.path for item in items if item.get_closest_marker("workflow")}
    slow |= {item.path for item in items if item.path.parent.name == "workflow"}
    items.sort(key=lambda item: item.path not in slow)


@pytest.fixture
def mirror() -> Path:
    """The offline mirror of published files (../shared/mirror beside the checkout)."""
    if not (MIRROR / "raw.githubusercontent.com").is_dir():
        pytest.skip(f"no data mirror at {MIRROR}; set NEURALIGN_MIRROR")
    return MIRROR


def snakemake_command(workdir: Path, config: dict, *args: str) -> list[str]:
    """The command running the real workflow in ``workdir`` with ``config`` (written there)."""
    config = {"model_table": str(REPO / "config" / "models_demo.tsv"), **config}
    configfile = workdir / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    return [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(configfile),
        "--cores",
        "2",
        *args,
    ]


def snakemake_env(env: dict | None = None) -> dict:
    return {**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})}


def run_workflow(
    workdir: Path, config: dict, *args: str, check: bool = True, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run the real workflow in ``workdir`` with a config dict; the completed process."""
    cmd = snakemake_command(workdir, config, *args)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=snakemake_env(env), timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def run_snakemake(tmp_path):
    """Run the real workflow in ``tmp_path`` with a config dict; returns the completed process."""

    def run(
        config: dict, *args: str, check: bool = True, env: dict | None = None
    ) -> subprocess.CompletedProcess:
        return run_workflow(tmp_path, config, *args, check=check, env=env)

    return run


@contextmanager
def read_only(folder: Path) -> Iterator[Path]:
    """Make ``folder`` (and the folders in it) read-only for this process while inside: by
    permissions, or for root (whom permissions do not stop) by the immutable attribute."""
    folders = [folder, *(path for path in folder.rglob("*") if path.is_dir())]
    if os.geteuid() == 0:
        done = subprocess.run(["chattr", "+i", *map(str, folders)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"running as root and chattr +i failed: {done.stderr.decode()}")
        try:
            yield folder
        finally:
            subprocess.run(["chattr", "-i", *map(str, folders)], check=True)
        return
    modes = {path: path.stat().st_mode for path in folders}
    for path in folders:
        path.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        yield folder
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


def write_summary_fit(path: Path) -> Path:
    """A fit file holding only what the scores table reads (every summary 0.5, layer "a")."""
    import xarray as xr

    from neuralign.reporting.scores import SUMMARY_COLUMNS

    fit = xr.Dataset(
        {name: ((), 0.5) for name in SUMMARY_COLUMNS},
        coords={"split": [0, 1]},
        attrs={"ceiling_formula": "r^2/c"},
    )
    fit["chosen_layer"] = ("split", ["a", "a"])
    fit.to_netcdf(path)
    return path
