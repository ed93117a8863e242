import re
import sys

import yaml
from snakemake.utils import validate

from neuralign.config import (
    RDM_ONLY,
    check_config,
    check_keys,
    config_file,
    select_models,
)
from neuralign.datasets import cowley2023, kriegeskorte2008, majajhong2015
from neuralign.datasets.published import dataset_downloads, remote_files
from neuralign.io.resources import resource_path
from neuralign import gated
from neuralign.datasets.cowley2023 import get_session
from neuralign.datasets.user import spec_files
from neuralign.models.table import (
    read_model_table,
    weights_download,
    weights_downloads,
    weights_file,
)

SCHEMA_DIR = Path(workflow.basedir) / "workflow" / "schemas"
check_keys(config, yaml.safe_load((SCHEMA_DIR / "config.schema.yaml").read_text()))
validate(config, "../schemas/config.schema.yaml")
USER_DATASETS = config["user_datasets"]
MODEL_TABLE = read_model_table(config_file(config, "model_table", workflow.basedir))
validate(MODEL_TABLE, "../schemas/models.schema.yaml")
MODELS = select_models(MODEL_TABLE, config["models"], config["model_table"])
# every check of the config, before any job (neuralign.config)
check_config(config, MODEL_TABLE, MODELS)

DATASETS = config["datasets"]
RDM_DATASETS = [dataset for dataset in DATASETS if dataset in RDM_ONLY]
RESPONSE_DATASETS = [dataset for dataset in DATASETS if dataset not in RDM_ONLY]
LAYER_SOURCE = config["fitting"]["select_layer_on"]
FIT_DATASETS = RESPONSE_DATASETS + ([LAYER_SOURCE] if LAYER_SOURCE else [])
# files the download rule may fetch (path -> published file); each stage adds its own, and
# NEEDED_DOWNLOADS are those this config's `rule all` needs (the `downloads` target)
WEIGHT_DOWNLOADS = weights_downloads(MODEL_TABLE, MODELS)
REMOTE_FILES = {**remote_files(), **WEIGHT_DOWNLOADS}
NEEDED_DOWNLOADS = dict(WEIGHT_DOWNLOADS)
for _dataset in DATASETS + FIT_DATASETS:
    NEEDED_DOWNLOADS.update(dataset_downloads(_dataset))
DOWNLOAD_LOCK = config["downloads"]["lock_file"]
# stages left out because a gated input is missing (neuralign.gated), for the report
LEFT_OUT = []
COWLEY_SESSIONS = sorted(cowley2023.SESSIONS)
MAP_DATASETS = config["maps"]["datasets"]
# the SIMULATED demo datasets of rule demo_dataset, as (kind in neuralign.datasets.jobs.DEMOS,
# options)
DEMO_DATASETS = {
    "demo": ("responses", config["demo"]),
    "demo_maps": ("maps", config["maps"]["demo"]),
}
DATASET_TITLES = {"demo": "demo dataset (SIMULATED neurons)"}


def one_of(names):
    """A wildcard constraint matching exactly ``names`` (nothing when there are none)."""
    return "|".join(map(re.escape, names)) or "(?!)"


wildcard_constraints:
    dataset=one_of(DATASETS + FIT_DATASETS),
    model=one_of(MODELS),


def leave_out(stage):
    """Leave a stage out (a ``neuralign.gated.LeftOut``): one line at start-up, and a row of
    the report's "left out" table."""
    LEFT_OUT.append(stage)
    if workflow.is_main_process:
        print(stage.line(), file=sys.stderr)


def left_out_targets():
    """The "left out" table (rule left_out, workflow/rules/downloads.smk), when a stage is."""
    return ["results/tables/left_out.csv"] if LEFT_OUT else []


def model_weights(wildcards):
    """The weights file a model reads (downloaded, user-provided or built by rule harmonize),
    if any."""
    return weights_file(MODEL_TABLE.loc[wildcards.model, "source"]) or []


def activation_options(wildcards):
    """Extraction options of a dataset for rule activations; a map dataset's are spatial
    (map_activation_options, maps_common.smk)."""
    if wildcards.dataset in MAP_DATASETS:
        return map_activation_options(wildcards)
    return config["activations"]


def gpus(device):
    """GPU request of a job running on ``device``."""
    return 1 if device == "cuda" else 0


def layer_source(wildcards):
    """The fit whose chosen layer this fit must use (Brain-Score's scheme), if configured."""
    if LAYER_SOURCE in (None, wildcards.dataset):
        return []
    return f"results/fits/{LAYER_SOURCE}/{wildcards.model}.nc"


def model_layers(wildcards):
    """The layer spec of a model: its own if configured, else the default one."""
    activations = config["activations"]
    return activations["model_layers"].get(wildcards.model, activations["layers"])


def model_rows():
    """Table rows (id, imagenet_top1, family, notes) of the selected models."""
    return MODEL_TABLE.loc[MODELS, ["id", "imagenet_top1", "family", "notes"]].to_dict(
        "records"
    )


def all_targets():
    return expand(
        [
            "results/scores/{dataset}.csv",
            "results/figures/{dataset}/accuracy_vs_predictivity.png",
            "results/figures/{dataset}/accuracy_vs_predictivity.pdf",
            "results/tables/{dataset}/accuracy_correlations.csv",
        ],
        dataset=DATASETS,
    )
