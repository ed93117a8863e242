"""What produced an artifact: the provenance a workflow job stamps on every output.

``job_provenance(snakemake)`` builds it from what a script knows:

- ``rule``: the Snakemake rule that wrote the file;
- ``neuralign_version``: the library's version (``neuralign.__version__``: the installed
  package's metadata, or the checkout's ``pyproject.toml`` where the package is imported
  without being installed, as in the ``--sdm conda`` environment);
- ``git_describe``: ``git describe --always --dirty`` of the checkout the library runs from
  (absent when it does not run from a git checkout);
- ``config_sha256``: sha256 of the rule's ``params`` (the config options it reads) as
  canonical JSON, so it changes when one of those options changes, and only then;
- ``dataset``, ``model``: the job's ids (its wildcards, or given by the script);
- ``simulated``: 1 when the data are simulated (the script says so, or one of the job's input
  data files, netCDF, CSV or HDF5, is marked simulated), else 0.

``neuralign.io.artifacts`` writes it into each kind of file and reads it back.
"""

from __future__ import annotations

import functools
import hashlib
import json
import subprocess
from collections.abc import Mapping
from pathlib import Path

import neuralign
from neuralign.io.artifacts import read_provenance

IDS = ("dataset", "model")
DATA_SUFFIXES = (".nc", ".csv", ".h5")  # inputs whose ``simulated`` flag is inherited


@functools.cache
def git_describe() -> str | None:
    """``git describe --always --dirty`` of the checkout holding this library, or None."""
    root = Path(neuralign.__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


def config_sha256(params: Mapping) -> str:
    """sha256 of ``params`` as canonical JSON (sorted keys; other objects by ``str``)."""
    text = json.dumps(params, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def job_provenance(snakemake, *, simulated: bool = False, **ids) -> dict:
    """The provenance of a Snakemake job's outputs (see the module docstring); ``ids`` add to
    or replace the ``dataset`` and ``model`` wildcards."""
    inputs = [path for path in snakemake.input if Path(path).suffix in DATA_SUFFIXES]
    provenance = {
        "rule": snakemake.rule,
        "neuralign_version": neuralign.__version__,
        "git_describe": git_describe(),
        "config_sha256": config_sha256(dict(snakemake.params.items())),
        "simulated": int(simulated or any(read_provenance(p)["simulated"] for p in inputs)),
        **{key: snakemake.wildcards.get(key) for key in IDS},
        **ids,
    }
    return {key: value for key, value in provenance.items() if value is not None}
