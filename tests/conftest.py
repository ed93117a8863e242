import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
MIRROR = Path(os.environ.get("NEURALIGN_MIRROR", REPO.parent / "shared" / "mirror"))


@pytest.fixture
def mirror() -> Path:
    """The offline mirror of published files (../shared/mirror beside the checkout)."""
    if not (MIRROR / "raw.githubusercontent.com").is_dir():
        pytest.skip(f"no data mirror at {MIRROR}; set NEURALIGN_MIRROR")
    return MIRROR


@pytest.fixture
def run_snakemake(tmp_path):
    """Run the real workflow in ``tmp_path`` with a config dict; returns the completed process."""

    def run(
        config: dict, *args: str, check: bool = True, env: dict | None = None
    ) -> subprocess.CompletedProcess:
        config = {"model_table": str(REPO / "config" / "models_demo.tsv"), **config}
        configfile = tmp_path / "config.yaml"
        configfile.write_text(yaml.safe_dump(config))
        cmd = [
            sys.executable,
            "-m",
            "snakemake",
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(tmp_path),
            "--configfile",
            str(configfile),
            "--cores",
            "2",
            *args,
        ]
        env = {**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})}
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
        if check and proc.returncode != 0:
            raise AssertionError(f"snakemake failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    return run


def write_summary_fit(path: Path) -> Path:
    """A fit file holding only what the scores table reads (every summary 0.5, layer "a")."""
    import xarray as xr

    from neuralign.scores import SUMMARY_COLUMNS

    fit = xr.Dataset(
        {name: ((), 0.5) for name in SUMMARY_COLUMNS},
        coords={"split": [0, 1]},
        attrs={"ceiling_formula": "r^2/c"},
    )
    fit["chosen_layer"] = ("split", ["a", "a"])
    fit.to_netcdf(path)
    return path
