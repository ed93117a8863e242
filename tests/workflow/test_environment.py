"""The conda environment files pin exactly what constraints.txt pins."""

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def pins(lines):
    found = {}
    for line in lines:
        match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)==(\S+)\s*", line)
        if match:
            found[match[1].lower().replace("_", "-")] = match[2]
    return found


def test_conda_envs_match_constraints():
    constraints = pins((REPO / "constraints.txt").read_text().splitlines())
    for env_file in sorted((REPO / "envs").glob("*.yaml")):
        env = yaml.safe_load(env_file.read_text())
        pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
        env_pins = pins(pip_section)
        assert env_pins, f"{env_file} pins nothing"
        for name, version in env_pins.items():
            assert constraints.get(name) == version, f"{env_file}: {name}=={version}"
