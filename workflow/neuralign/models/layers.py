"""Which layers of a model to read: stage outputs, named modules, globs, or N evenly spaced blocks.

A layer spec is one of

- ``"stages"``: the model's stage outputs (timm ``feature_info``) and ``global_pool`` when present;
- an integer ``N``: N blocks evenly spaced from first to last (see ``blocks``);
- a list of module names or glob patterns (``"blocks.*"``), matched against module names in
  model order; a pattern matching nothing is an error.
"""

from __future__ import annotations

import fnmatch

import numpy as np
import torch

CONTAINERS = (torch.nn.Sequential, torch.nn.ModuleList)
LayerSpec = str | int | list[str]


class LayerError(ValueError):
    """A layer spec that does not resolve on a model."""


def module_names(module: torch.nn.Module) -> list[str]:
    """Names of every submodule, in model order."""
    return [name for name, _ in module.named_modules() if name]


def default_layers(module: torch.nn.Module) -> list[str]:
    """The model's stage outputs (timm ``feature_info``) and its pooled pre-logits layer."""
    layers = [info["module"] for info in getattr(module, "feature_info", [])]
    if "global_pool" in dict(module.named_modules()):
        layers.append("global_pool")
    if not layers:
        raise LayerError(f"{type(module).__name__} has no feature_info; name its layers in config")
    return layers


def blocks(module: torch.nn.Module) -> list[str]:
    """The model's blocks in order: the innermost composite modules (two or more parameterised
    children) held in a Sequential or ModuleList. Models without such blocks (AlexNet, VGG)
    fall back to their convolutional and linear layers."""
    found = []
    for name, child in module.named_modules():
        parent = module.get_submodule(name.rpartition(".")[0]) if "." in name else None
        if not isinstance(parent, CONTAINERS) or isinstance(child, CONTAINERS):
            continue
        parameterised = [c for c in child.children() if any(True for _ in c.parameters())]
        if len(parameterised) >= 2:
            found.append(name)
    innermost = [n for n in found if not any(o.startswith(f"{n}.") for o in found)]
    if innermost:
        return innermost
    return [
        name
        for name, child in module.named_modules()
        if isinstance(child, (torch.nn.Conv2d, torch.nn.Linear))
    ]


def evenly_spaced(names: list[str], n: int) -> list[str]:
    """``n`` names evenly spaced from the first to the last (all of them if fewer)."""
    if n < 1:
        raise LayerError(f"the number of layers must be positive, got {n}")
    if n >= len(names):
        return list(names)
    return [names[i] for i in np.round(np.linspace(0, len(names) - 1, n)).astype(int)]


def resolve_layers(module: torch.nn.Module, spec: LayerSpec, model_id: str) -> list[str]:
    """The module names a layer spec stands for, checked against ``module``."""
    if spec == "stages":
        return default_layers(module)
    if isinstance(spec, int):
        return evenly_spaced(blocks(module), spec)
    if isinstance(spec, str):
        raise LayerError(
            f"model {model_id!r}: layer spec {spec!r} is not 'stages', an integer "
            "or a list of module names"
        )
    names = module_names(module)
    resolved: list[str] = []
    for pattern in spec:
        if any(ch in pattern for ch in "*?["):
            matches = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
            if not matches:
                _unknown(module, [pattern], model_id)
            resolved += [m for m in matches if m not in resolved]
        else:
            check_layers(module, [pattern], model_id)
            resolved += [pattern] if pattern not in resolved else []
    return resolved


def check_layers(module: torch.nn.Module, layers: list[str], model_id: str) -> None:
    """Raise LayerError naming any layer that is not a module of ``module``."""
    names = set(module_names(module))
    unknown = [layer for layer in layers if layer not in names]
    if unknown:
        _unknown(module, unknown, model_id)


def _unknown(module: torch.nn.Module, unknown: list[str], model_id: str) -> None:
    names = module_names(module)
    raise LayerError(
        f"model {model_id!r} has no layer(s) {unknown}; its stage layers are "
        f"{default_layers(module) if hasattr(module, 'feature_info') else []}, its blocks "
        f"{blocks(module)[:12]} (any of its {len(names)} module names is valid, e.g. "
        f"{names[:6]} …; glob patterns such as 'blocks.*' work too)"
    )
