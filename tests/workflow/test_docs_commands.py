"""Every shell command in README.md and config/README.md runs as written: each `snakemake`
command is dry-run (`-n`, the offline mirror beside the checkout when it names one), each `make`
command checked with `make -n`. A command that cannot run here is skipped by one of the
explicit rules of SKIP, which the skip message names."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

DOCS = (REPO / "README.md", REPO / "config" / "README.md")
FENCE = re.compile(r"^```(?:bash|sh|shell|console)\n(.*?)^```", re.M | re.S)
ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
# rule name -> (does it apply to a command, why such a command cannot run here)
SKIP = {
    "placeholder": (
        lambda command: re.search(r"<[^<>\s]+>", command),
        "it has a <placeholder> for the reader to fill in",
    ),
    "slurm": (
        lambda command: "profiles/slurm" in command,
        "it submits jobs to a SLURM cluster (make test-slurm runs that profile)",
    ),
}


def shell_commands(markdown: str) -> list[str]:
    """The commands of a document's fenced shell blocks: `\\` continuations joined, comments
    and blank lines dropped, a leading `$ ` prompt removed."""
    commands = []
    for block in FENCE.findall(markdown):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            line = line.strip().removeprefix("$ ")
            line = re.sub(r"\s+#.*$", "", line) if not line.startswith("#") else ""
            if line:
                commands.append(line)
    return commands


def parse(command: str) -> tuple[dict[str, str], list[str]]:
    """(environment assignments before the program, argv)."""
    words = shlex.split(command)
    env = {}
    while words and ASSIGNMENT.match(words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    return env, words


def dry_run(command: str) -> subprocess.CompletedProcess:
    """Run ``command`` in the checkout as a dry run: snakemake with `-n` right after the
    program (so that a misplaced target is still read as whatever the command makes it),
    make with `-n`."""
    env, argv = parse(command)
    program = Path(argv[0]).name
    if program == "snakemake":
        argv = [sys.executable, "-m", "snakemake", "-n", *argv[1:]]
    elif program == "make":
        argv = ["make", "-n", *argv[1:]]
    else:
        raise AssertionError(f"{command!r}: neither snakemake nor make; add a rule for it")
    return subprocess.run(
        argv,
        cwd=REPO,
        env={**os.environ, "PYTHONWARNINGS": "ignore", **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


COMMANDS = [(doc, command) for doc in DOCS for command in shell_commands(doc.read_text())]


def test_the_docs_have_commands_and_the_parser_understands_them():
    text = (
        "```bash\nNEURALIGN_MIRROR=../m .venv/bin/snakemake --cores all \\\n"
        "    results/a.nc --configfile=config/demo.yaml  # a comment\n# whole line\n```\n"
        "```python\nnot_shell()\n```\n"
    )
    [command] = shell_commands(text)
    env, argv = parse(command)
    assert env == {"NEURALIGN_MIRROR": "../m"}
    assert argv == [
        ".venv/bin/snakemake",
        "--cores",
        "all",
        "results/a.nc",
        "--configfile=config/demo.yaml",
    ]
    assert sum("snakemake" in command for _, command in COMMANDS) >= 4


@pytest.mark.workflow
@pytest.mark.parametrize(
    ("doc", "command"),
    COMMANDS,
    ids=[f"{doc.relative_to(REPO)}:{command[:60]}" for doc, command in COMMANDS],
)
def test_documented_command_runs_as_written(doc, command):
    for name, (applies, why) in SKIP.items():
        if applies(command):
            pytest.skip(f"skip rule '{name}': {why}")
    proc = dry_run(command)
    assert proc.returncode == 0, (
        f"{doc.relative_to(REPO)}: `{command}` fails as written:\n{proc.stdout}\n{proc.stderr}"
    )
