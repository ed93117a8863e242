"""What the installed timm and torchvision offer, answered without importing them each time.

Every workflow start checks the model table against these libraries: timm's architecture
names and the pretrained configs of weights (classifier size, published file), torchvision's
models and weights, and whether layer specs resolve on their architectures. Importing them for
that costs about 7 s (torch, and torch._dynamo through torchvision.ops), most of a dry run and
of every SLURM job's start. Each answer is computed once, by importing the library, and kept in
a JSON file per installed version of timm and torchvision in the user cache
(``platformdirs.user_cache_dir("neuralign")``: on Linux ``$XDG_CACHE_HOME/neuralign`` or
``~/.cache/neuralign``). The answers of one version never
change, so a new pin in constraints.txt simply starts a new file (a question that also
depends on neuralign's own code names that code's digest). An unreadable file is answered
afresh; one that cannot be written costs time only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from importlib.metadata import version
from pathlib import Path

import platformdirs

from neuralign.io.atomic import atomic_path

# what a timm pretrained config contributes: its classifier size and where its file is
PRETRAINED_FIELDS = ("num_classes", "hf_hub_id", "hf_hub_filename", "url")
_ANSWERS: dict[Path, dict] = {}  # each cache file's answers, read once per process


@cache
def _versions() -> str:
    return f"timm-{version('timm')}_torchvision-{version('torchvision')}"


def cache_file() -> Path:
    """The JSON file of answers for the installed timm and torchvision."""
    return Path(platformdirs.user_cache_dir("neuralign")) / f"catalog_{_versions()}.json"


def _read(path: Path) -> dict:
    try:
        answers = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return answers if isinstance(answers, dict) else {}


def answer(question: str, compute: Callable[[], object]):
    """The answer to ``question``: from the cache file, else ``compute()`` (then kept)."""
    path = cache_file()
    if path not in _ANSWERS:
        _ANSWERS[path] = _read(path)
    answers = _ANSWERS[path]
    if question not in answers:
        answers[question] = compute()
        answers.update({**_read(path), **answers})  # keep what other processes added
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as temp:
                temp.write_text(json.dumps(answers))
        except OSError:
            pass  # a cache that cannot be written costs only time
    return answers[question]


def timm_architectures() -> list[str]:
    """``timm.list_models()``: every architecture name."""

    def compute():
        import timm

        return timm.list_models()

    return answer("timm.list_models", compute)


def timm_pretrained(name: str) -> dict | None:
    """The ``PRETRAINED_FIELDS`` of timm's pretrained config of ``name`` (``<arch>[.<tag>]``;
    the default tag without one), or None where timm has none (an unknown architecture or
    tag, or an architecture without pretrained weights)."""

    def compute():
        import timm

        try:
            config = timm.models.get_pretrained_cfg(name)
        except RuntimeError:
            return None
        return None if config is None else {k: getattr(config, k) for k in PRETRAINED_FIELDS}

    return answer(f"timm.get_pretrained_cfg:{name}", compute)


def torchvision_models() -> list[str]:
    """``torchvision.models.list_models()``."""

    def compute():
        import torchvision

        return torchvision.models.list_models()

    return answer("torchvision.list_models", compute)


def torchvision_weights(arch: str) -> dict[str, dict]:
    """The weights of torchvision model ``arch`` (a name of ``torchvision_models``) by name,
    aliases such as ``DEFAULT`` included: each its ``url``, its ``name`` (the alias resolved)
    and its number of ``categories``."""

    def compute():
        import torchvision

        members = torchvision.models.get_model_weights(arch).__members__
        return {
            alias: {
                "name": weights.name,
                "url": weights.url,
                "categories": len(weights.meta.get("categories", ())),
            }
            for alias, weights in members.items()
        }

    return answer(f"torchvision.get_model_weights:{arch}", compute)
