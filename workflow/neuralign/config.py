"""Checks of the workflow config that run before any job, with messages that name the key."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from neuralign.datasets import clickme, cowley2023, god_fmri, majajhong2015
from neuralign.datasets.arcaro2020 import ARCHIVE as ARCARO_ARCHIVE
from neuralign.fitting.alignment.registry import METRICS
from neuralign.io.dataset import DatasetError
from neuralign.models.sources import harmonized as harmonized_models
from neuralign.models.table import (
    ModelError,
    check_checkpoint_base,
    check_source,
    has_imagenet_head,
    layer_spec_error,
)

SCORED_ELSEWHERE = {
    "sanghavi2020": (
        "there are no public files: Brain-Score keeps the Sanghavi 2020 assemblies "
        "access-restricted (its own tests mark them private_access)"
    ),
    "arcaro2020": "it is a map dataset; list it under 'maps.datasets'",
    "demo_maps": "it is a map dataset; list it under 'maps.datasets'",
    "god_fmri": "it is the fMRI experiment; list its subjects under 'fmri.subjects'",
    "clickme": "it holds human feature-importance maps for the harmonizer ('harmonizer.clickme')",
}
RDM_ONLY = ("kriegeskorte2008_92",)


class ConfigError(ValueError):
    """The config asks for something that does not exist."""


def check_config(config: Mapping, table: pd.DataFrame, models: list[str]) -> None:
    """Every check of the (schema-validated) workflow config, before any job runs: datasets,
    layers, model files, reduction, the metric panel, maps, harmonizer and ImageNet stages.
    ``table`` is the model table and ``models`` the selected ids (``select_models``)."""
    user_datasets = config["user_datasets"]
    check_user_datasets(user_datasets)
    check_datasets(config["datasets"], user_datasets)
    check_layer_source(config["fitting"]["select_layer_on"], user_datasets)
    check_layer_config(config["activations"], table, models)
    check_model_files(table, models, config["model_table"])
    check_reduction(config["activations"])
    check_metrics(config["metrics"], config["fitting"]["cv"])
    check_maps(config["maps"], config["datasets"])
    check_harmonizer(config["harmonizer"])
    check_imagenet_top1(table, models, config["model_table"])


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


def _scored_elsewhere(dataset: str) -> str | None:
    return next((v for k, v in SCORED_ELSEWHERE.items() if dataset.startswith(k)), None)


def scorable_datasets(user_datasets: Iterable[str] = ()) -> list[str]:
    """Datasets the workflow can score: built-in ones (with repeated responses, repeat
    averages scored by raw r without a ceiling, or RDMs by RSA) and the user's."""
    cowley = [f"cowley2023_v4_{session}" for session in cowley2023.SESSIONS]
    return ["demo", *cowley, *majajhong2015.DATASETS, *RDM_ONLY, *user_datasets]


def check_user_datasets(user_datasets: Mapping[str, Mapping]) -> None:
    """Names of config 'user_datasets' must not be built-in datasets, and the files they name
    must exist."""
    for name, spec in user_datasets.items():
        if name in scorable_datasets() or _scored_elsewhere(name) or name == "god_fmri":
            raise ConfigError(
                f"config 'user_datasets.{name}': {name!r} is a built-in dataset name; "
                "choose another name"
            )
        for key in ("netcdf", "images", "responses", "stimuli", "neuroids", "ceiling"):
            path = spec.get(key)
            if isinstance(path, str) and not Path(path).exists():
                raise ConfigError(
                    f"config 'user_datasets.{name}.{key}': {path} does not exist (paths are "
                    "relative to the working directory)"
                )


def config_file(config: Mapping, key: str, workflow_dir: str | Path) -> str:
    """The existing file named by config ``key``. Relative paths are read from the working
    directory (Snakemake's ``--directory``), like every path of the workflow; when the file
    exists only relative to the workflow's folder (a run with ``-s <path>/Snakefile`` from
    elsewhere), the message says so."""
    path = Path(config[key])
    if path.is_file():
        return str(path)
    hint = ""
    beside = Path(workflow_dir) / path
    if not path.is_absolute() and beside.is_file():
        hint = (
            f"; the workflow's folder has {beside}: run snakemake from {workflow_dir} or set "
            f"'{key}' to that absolute path"
        )
    raise ConfigError(
        f"config '{key}': {path} does not exist (relative paths are read from the working "
        f"directory, {Path.cwd()}){hint}"
    )


def check_datasets(datasets: Iterable[str], user_datasets: Iterable[str] = ()) -> None:
    """Every dataset in config 'datasets' must be one the workflow can build and score."""
    available = scorable_datasets(user_datasets)
    for dataset in datasets:
        if dataset in available:
            continue
        if elsewhere := _scored_elsewhere(dataset):
            raise ConfigError(
                f"dataset {dataset!r} (config 'datasets') cannot be scored: {elsewhere}; "
                f"scorable now: {', '.join(available)}"
            )
        raise ConfigError(
            f"unknown dataset {dataset!r} in config 'datasets' (declare your own under "
            f"'user_datasets'); {_choices(dataset, available)}"
        )


def check_layer_source(dataset: str | None, user_datasets: Iterable[str] = ()) -> None:
    """``fitting.select_layer_on`` must name a dataset scored by regression."""
    valid = [d for d in scorable_datasets(user_datasets) if d not in RDM_ONLY]
    if dataset is not None and dataset not in valid:
        raise ConfigError(
            f"config 'fitting.select_layer_on': {dataset!r} is not a dataset scored by "
            f"regression; {_choices(dataset, valid)}"
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


def check_reduction(activations: Mapping) -> None:
    """The pca reduction needs a separate image set."""
    folder = activations["pca_images"]
    if activations["reduction"]["method"] == "pca" and not folder:
        raise ConfigError(
            "config 'activations.reduction.method: pca' needs "
            "'activations.pca_images': a folder of images to fit the PCA on"
        )
    if folder and not Path(folder).is_dir():
        raise ConfigError(f"config 'activations.pca_images': {folder} is not a folder")


def check_model_files(table: pd.DataFrame, models: list[str], table_path: str = "") -> None:
    """A Keras model file (``keras:<path>``) must exist before any job runs, unless the model
    table's ``url`` column says where rule download fetches it from; a ``harmonized:<name>``
    row's ``url``, if given, must be the one ``harmonized_models.MODELS`` downloads."""
    for model in models:
        kind, _, name = table.loc[model, "source"].partition(":")
        url = table.loc[model].get("url", "")
        if kind == "keras" and not url and not Path(name).is_file():
            raise ConfigError(
                f"model {model!r}: Keras model file {name} does not exist; put it there, or "
                f"give its published address in the 'url' column of the model table "
                f"{table_path} so that the workflow downloads it (notes: "
                f"{table.loc[model, 'notes']})"
            )
        if kind == "harmonized" and url and url != (known := harmonized_models.MODELS[name].url):
            raise ConfigError(
                f"model {model!r}: the 'url' column of the model table {table_path} gives {url}, "
                f"but harmonized:{name} is published at {known} "
                f"(neuralign.models.sources.harmonized); "
                "correct the column or leave it empty"
            )


def check_layer_config(activations: Mapping, table: pd.DataFrame, models: list[str]) -> None:
    """Layer specs must resolve on every selected model (explicit specs) and name known models.

    The default ``stages`` spec resolves on any timm model and on no torchvision model; other
    specs are checked on the architecture of every selected model (cheap: no weights are
    loaded).
    """
    for model in activations["model_layers"]:
        if model not in table.index:
            raise ConfigError(
                f"unknown model id {model!r} in config 'activations.model_layers'; "
                f"{_choices(model, table.index)}"
            )
    for model in models:
        spec = activations["model_layers"].get(model, activations["layers"])
        source = table.loc[model, "source"]
        if spec == "stages" and source.startswith(("torchvision:", "keras:")):
            raise ConfigError(
                f"config 'activations' layers: model {model!r} ({source}) has no stage list "
                "(only timm models have a feature_info); give its layers in "
                f"'activations.model_layers.{model}' (an integer N or module names)"
            )
        if spec == "stages" or source.startswith(("checkpoint:", "keras:")):
            continue
        check_layers_resolve(source, spec, model, "config 'activations' layers")


def check_layers_resolve(source: str, spec, model: str, key: str) -> None:
    """ConfigError (naming ``key``) unless layer ``spec`` resolves on the architecture of
    ``source`` (``neuralign.models.table.layer_spec_error``)."""
    try:
        error = layer_spec_error(source, spec, model)
    except ModelError as err:
        error = str(err)
    if error:
        raise ConfigError(f"{key}: {error}")


def check_metrics(metrics: list[str], cv: str) -> None:
    """Config ``metrics``: registered alignment metrics
    (``neuralign.fitting.alignment.registry.METRICS``), each at most once, and outer splits with
    held-out sets of several stimuli."""
    unknown = [name for name in metrics if name not in METRICS]
    if unknown:
        raise ConfigError(
            f"config 'metrics': unknown metric {unknown[0]!r}; "
            f"{_choices(unknown[0], METRICS)} (an empty list runs no alignment panel)"
        )
    repeated = sorted({name for name in metrics if metrics.count(name) > 1})
    if repeated:
        raise ConfigError(f"config 'metrics': {', '.join(repeated)} given more than once")
    if metrics and cv == "loso":
        raise ConfigError(
            "config 'metrics' needs held-out sets of several stimuli (CKA, RSA and Procrustes "
            "compare held-out stimuli with each other): set 'fitting.cv' to shuffle or kfold, "
            "or 'metrics: []'"
        )


def check_maps(maps: Mapping, datasets: Iterable[str]) -> None:
    """Config 'maps': map datasets are listed there only, the attribution mapping is fitted,
    and a user copy of the Arcaro 2020 archive is a file."""
    listed_twice = sorted(set(maps["datasets"]) & set(datasets))
    if listed_twice:
        raise ConfigError(
            f"config: {listed_twice} are map datasets; list them "
            "under maps.datasets only, not under datasets"
        )
    if maps["attribution"] and maps["attribution_mapping"] not in maps["mappings"]:
        raise ConfigError(
            f"config: maps.attribution_mapping {maps['attribution_mapping']!r} is not one of "
            f"maps.mappings {maps['mappings']}; add it there or set maps.attribution: false"
        )
    path = maps["arcaro2020_archive"]
    if path and not Path(path).is_file():
        raise ConfigError(
            f"config 'maps.arcaro2020_archive' is {path!r}, not a file: point it at a copy "
            f"of {ARCARO_ARCHIVE.url}, or set it to null to let the workflow download it"
        )


def check_harmonizer(harmonizer: Mapping) -> None:
    """Config 'harmonizer': configured ClickMe folders hold their shards, runs on
    'clickme+imagenet' have ImageNet training images, and bases are timm models."""
    for split in ("train", "val"):
        folder = harmonizer["clickme"][split]
        if folder:
            try:
                clickme.shard_paths(folder, split)
            except FileNotFoundError as err:
                raise ConfigError(f"config 'harmonizer.clickme.{split}': {err}") from err
    for run, options in harmonizer["runs"].items():
        if options["data"] == "clickme+imagenet" and not harmonizer["imagenet_train"]:
            raise ConfigError(
                f"config 'harmonizer.runs.{run}': data 'clickme+imagenet' needs "
                "'harmonizer.imagenet_train' (an ImageNet-style folder <wnid>/<image>)"
            )
        try:
            check_checkpoint_base(options["base"])
        except ModelError as err:
            raise ConfigError(f"config 'harmonizer.runs.{run}.base': {err}") from err


def check_imagenet_top1(table: pd.DataFrame, models: list[str], table_path: str = "") -> None:
    """A selected model without a top-1 in the model table needs a 1000-way ImageNet
    classifier: without one (backbone-only weights) its top-1 can never be measured."""
    missing = [model for model in models if pd.isna(table.loc[model, "imagenet_top1"])]
    headless = [model for model in missing if not has_imagenet_head(table.loc[model, "source"])]
    if headless:
        raise ConfigError(
            f"model(s) {headless} of {table_path} have no imagenet_top1 and no 1000-way "
            "ImageNet classifier (backbone-only weights), so it cannot be measured: fill in "
            "their published top-1 (e.g. the paper's linear probe) in that column"
        )


# fMRI stage
GOD_H5_DIR = "resources/god_fmri"  # config 'fmri.h5_dir' default: the downloaded files


def check_fmri(fmri: Mapping, unchecked_subjects: Sequence[str] = ()) -> None:
    """Check config 'fmri' before any job: model sources and layer specs resolve, and the
    stimulus folder holds every image of ``unchecked_subjects`` (those whose dataset is not
    built yet) whose HDF5 file is already there (the others are checked when converted, after
    rule download fetched their file). ConfigError says where to get what is missing. With
    'fmri.simulated.enabled' a rule makes those files, so only their folders are checked
    (``check_fmri_simulated_paths``). Whether the gated stimulus images are there at all decides
    whether the experiment runs (``neuralign.gated.god_stimuli``)."""
    for model, source in fmri["models"].items():
        spec = fmri["model_layers"].get(model, fmri["layers"])
        check_layers_resolve(source, spec, model, f"config 'fmri.models.{model}'")
    unknown = sorted(set(fmri["model_layers"]) - set(fmri["models"]))
    if unknown:
        raise ConfigError(
            f"config 'fmri.model_layers' names {unknown}, which are not in 'fmri.models' "
            f"({', '.join(fmri['models'])})"
        )
    if fmri.get("simulated", {}).get("enabled", False):
        check_fmri_simulated_paths(fmri)
        return  # the files are made by rule god_fmri_simulated
    for subject in unchecked_subjects:
        h5 = Path(fmri["h5_dir"]) / f"{subject}.h5"
        if not h5.is_file():
            continue
        try:
            god_fmri.check_stimulus_dir(h5, fmri["stimulus_dir"])
        except DatasetError as err:
            raise ConfigError(
                f"config 'fmri.stimulus_dir': {err} (or set 'fmri.subjects: []' to leave the "
                "fMRI experiment out)"
            ) from err


def check_fmri_simulated_paths(fmri: Mapping) -> None:
    """With 'fmri.simulated.enabled', the SIMULATED files go to 'h5_dir' and 'stimulus_dir':
    ConfigError unless both are set, apart from each other and from resources/god_fmri (the
    real files' default place, which a simulation must never fill)."""
    where = "e.g. h5_dir: results/simulated/god_fmri, stimulus_dir: results/simulated/god_images"
    if not fmri["stimulus_dir"]:
        raise ConfigError(
            "config 'fmri.simulated.enabled' writes the SIMULATED images into "
            f"'fmri.stimulus_dir', which is not set; {where}"
        )
    h5_dir, stimuli = Path(fmri["h5_dir"]).resolve(), Path(fmri["stimulus_dir"]).resolve()
    if h5_dir == Path(GOD_H5_DIR).resolve():
        raise ConfigError(
            f"config 'fmri.simulated.enabled' would write SIMULATED files into 'fmri.h5_dir' "
            f"{fmri['h5_dir']}, where the real GOD files belong; point it elsewhere ({where})"
        )
    if h5_dir == stimuli or h5_dir.is_relative_to(stimuli):
        raise ConfigError(
            f"config 'fmri.simulated.enabled': 'fmri.h5_dir' {fmri['h5_dir']} lies in "
            f"'fmri.stimulus_dir' {fmri['stimulus_dir']}, the folder of images the simulation "
            f"writes; give them separate folders ({where})"
        )
