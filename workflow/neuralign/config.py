"""Checks of the workflow config that run before any job, with messages that name the key."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

import pandas as pd

from neuralign.models import ModelError, build_architecture, check_layers, check_source

AVAILABLE_DATASETS = ("demo",)
PLANNED_DATASETS = {
    "cowley2023_v4": "issue #4",
    "kriegeskorte2008_92": "issue #4",
    "majajhong2015_public": "issue #4",
    "arcaro2020": "issues #4 and #7",
    "god_fmri": "issues #4 and #11",
}


class ConfigError(ValueError):
    """The config asks for something that does not exist."""


def _choices(name: str, valid: Iterable[str]) -> str:
    valid = sorted(valid)
    close = difflib.get_close_matches(name, valid, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}valid: {', '.join(valid)}"


def check_keys(config: Mapping, schema: Mapping, where: str = "config") -> None:
    """Reject keys the schema does not define, recursively, naming the closest valid key."""
    properties = schema.get("properties")
    if properties is None or schema.get("additionalProperties", True) is not False:
        return
    for key, value in config.items():
        if key not in properties:
            raise ConfigError(f"unknown key '{key}' in {where}; {_choices(key, properties)}")
        if isinstance(value, Mapping):
            check_keys(value, properties[key], f"{where}.{key}")


def check_datasets(datasets: Iterable[str]) -> None:
    """Every requested dataset must be one the workflow can build."""
    for dataset in datasets:
        if dataset in AVAILABLE_DATASETS:
            continue
        planned = next((v for k, v in PLANNED_DATASETS.items() if dataset.startswith(k)), None)
        if planned:
            raise ConfigError(
                f"dataset {dataset!r} (config 'datasets') is not built yet ({planned}); "
                f"available now: {', '.join(AVAILABLE_DATASETS)}"
            )
        raise ConfigError(
            f"unknown dataset {dataset!r} in config 'datasets'; "
            f"{_choices(dataset, AVAILABLE_DATASETS)}"
        )


def select_models(table: pd.DataFrame, requested: list[str], table_path: str) -> list[str]:
    """Model ids to run: the requested ones (checked against the table) or all of them."""
    for model in requested:
        if model not in table.index:
            raise ConfigError(
                f"unknown model id {model!r} in config 'models' (model table {table_path}); "
                f"{_choices(model, table.index)}"
            )
    selected = list(requested) or list(table.index)
    for model in selected:
        try:
            check_source(table.loc[model, "source"])
        except ModelError as err:
            raise ConfigError(f"model {model!r} of {table_path}: {err}") from err
    return selected


def check_layer_config(layers: Mapping[str, list[str]], table: pd.DataFrame) -> None:
    """Every model in ``activations.layers`` must exist and have the named modules."""
    for model, names in layers.items():
        if model not in table.index:
            raise ConfigError(
                f"unknown model id {model!r} in config 'activations.layers'; "
                f"{_choices(model, table.index)}"
            )
        try:
            check_layers(build_architecture(table.loc[model, "source"]), names, model)
        except ModelError as err:
            raise ConfigError(f"config 'activations.layers': {err}") from err
