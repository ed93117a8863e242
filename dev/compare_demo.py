"""Check that a change leaves the demo's numbers alone: run the demo at two commits, compare.

    .venv/bin/python dev/compare_demo.py BEFORE [AFTER] [--cores N] [--keep DIR]

Each commit is checked out in a temporary git worktree and runs ``snakemake --cores N
--configfile config/demo.yaml`` with its own library (``PYTHONPATH=<worktree>/workflow``) and
this environment's Snakemake. ``AFTER`` defaults to the working tree itself. A run left
unfinished is completed (Snakemake redoes nothing that is up to date). Every CSV under
``results/{scores,maps,fmri}`` must exist in both runs with the same columns and rows; numeric
columns must agree to a relative ``--rtol`` (1e-9), other columns exactly. Provenance columns
(which rule, version, code and config wrote a row) are left out. Prints the largest relative
difference and exits 1 on any disagreement.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
FOLDERS = ("scores", "maps", "fmri")
PROVENANCE = {"rule", "neuralign_version", "git_describe", "config_sha256"}


def run_demo(tree: Path, cores: int) -> Path:
    """Run the demo workflow in ``tree``; its results folder."""
    env = {**os.environ, "PYTHONPATH": str(tree / "workflow")}
    snakemake = Path(sys.executable).with_name("snakemake")
    command = [str(snakemake), "--cores", str(cores), "--configfile", "config/demo.yaml"]
    subprocess.run(command, cwd=tree, env=env, check=True)
    return tree / "results"


def demo_at(commit: str, workdir: Path, cores: int) -> Path:
    """The demo's results at ``commit``, run (or completed) in a worktree under ``workdir``."""
    tree = workdir / commit
    if not tree.is_dir():
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(tree), commit], cwd=REPO, check=True
        )
    return run_demo(tree, cores)  # finishes an interrupted run; nothing to do after a complete one


def tables(results: Path) -> dict[str, Path]:
    """The demo's CSV tables under ``results``, by path relative to it."""
    return {
        str(path.relative_to(results)): path
        for folder in FOLDERS
        for path in sorted((results / folder).rglob("*.csv"))
    }


def relative_difference(before: pd.Series, after: pd.Series) -> float:
    """The largest |a - b| / max(|a|, |b|) over rows; inf where NaNs sit in different rows."""
    a, b = before.to_numpy(float), after.to_numpy(float)
    if not np.array_equal(np.isnan(a), np.isnan(b)):
        return np.inf
    keep = ~np.isnan(a)
    scale = np.maximum(np.maximum(abs(a[keep]), abs(b[keep])), np.finfo(float).tiny)
    return float(np.max(abs(a[keep] - b[keep]) / scale, initial=0.0))


def compare_table(before: pd.DataFrame, after: pd.DataFrame) -> tuple[list[str], float, str]:
    """Problems found, the largest numeric relative difference and the column holding it."""
    columns = [c for c in before.columns if c not in PROVENANCE]
    other = [c for c in after.columns if c not in PROVENANCE]
    if columns != other or len(before) != len(after):
        return (
            [f"columns or rows differ: {columns} x {len(before)} vs {other} x {len(after)}"],
            0,
            "",
        )
    problems, largest, where = [], 0.0, ""
    for column in columns:
        if pd.api.types.is_numeric_dtype(before[column]) and pd.api.types.is_numeric_dtype(
            after[column]
        ):
            difference = relative_difference(before[column], after[column])
            if difference > largest:
                largest, where = difference, column
        elif not before[column].astype(str).equals(after[column].astype(str)):
            problems.append(f"column {column!r} differs")
    return problems, largest, where


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", help="commit of the reference run")
    parser.add_argument("after", nargs="?", help="commit to check (default: the working tree)")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--rtol", type=float, default=1e-9)
    parser.add_argument("--keep", type=Path, help="folder for the worktrees, kept for reuse")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="compare-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        before = tables(demo_at(args.before, workdir, args.cores))
        after = tables(
            demo_at(args.after, workdir, args.cores) if args.after else run_demo(REPO, args.cores)
        )
    finally:
        if not args.keep:
            subprocess.run(
                ["git", "worktree", "remove", "--force", *map(str, workdir.iterdir())], cwd=REPO
            )
    failures, largest = [], (0.0, "", "")
    for name in sorted(set(before) | set(after)):
        if name not in before or name not in after:
            failures.append(f"{name}: only in the {'after' if name in after else 'before'} run")
            continue
        problems, difference, column = compare_table(
            pd.read_csv(before[name]), pd.read_csv(after[name])
        )
        failures += [f"{name}: {problem}" for problem in problems]
        if difference > args.rtol:
            failures.append(f"{name}: column {column!r} differs by {difference:.3g} (relative)")
        largest = max(largest, (difference, name, column))
    print(
        f"{len(before)} tables compared; largest relative difference {largest[0]:.3g}"
        f" ({largest[1]}, column {largest[2]!r})"
    )
    print("\n".join(failures) or "all numeric columns agree within the tolerance")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
