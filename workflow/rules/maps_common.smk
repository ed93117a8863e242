"""Configuration, geometry and helper functions of the map stage (rules: maps.smk)."""

import pandas as pd

from neuralign.datasets.arcaro2020 import (
    ARCHIVE,
    GRID_STEP_DEG,
    IMAGE_SIZE_DEG,
    MONKEYS,
)
from neuralign.datasets.simulated.demo import DEMO_MAPS_IMAGE_DEGREES
from neuralign.analyses.maps.geometry import grid_field

MAPS = config["maps"]
# (image size, grid size, grid step) in degrees: the model's field of view must hold every grid
# position, so it is fixed before the dataset exists (map_fit checks it against the dataset).
MAP_GEOMETRY = {
    "demo_maps": (
        DEMO_MAPS_IMAGE_DEGREES,
        MAPS["demo"]["grid"],
        MAPS["demo"]["step"] * DEMO_MAPS_IMAGE_DEGREES,
    ),
    **{
        f"arcaro2020_{monkey.lower()}": (IMAGE_SIZE_DEG, info.grid, GRID_STEP_DEG)
        for monkey, info in MONKEYS.items()
    },
}
# the keys map_fit reads (the rest of `maps` must not trigger refits)
MAP_FIT_OPTIONS = {
    key: MAPS[key]
    for key in (
        "mappings",
        "pls_components",
        "relative_alphas",
        "attribution",
        "attribution_mapping",
        "ceiling_splits",
        "ceiling_seed",
        "n_bootstrap",
        "bootstrap_seed",
        "device",
    )
}
MAP_TITLES = {
    "demo_maps": "demo maps (SIMULATED)",
    **{
        f"arcaro2020_{monkey.lower()}": f"Arcaro 2020, {info.label} ({monkey})"
        for monkey, info in MONKEYS.items()
    },
}


def map_field(wildcards):
    """The model's field of view (degrees) for a map dataset."""
    return grid_field(*MAP_GEOMETRY[wildcards.dataset])


def map_activation_options(wildcards):
    """Extraction options for map datasets: spatial features of the image on grey in a field
    of view that holds every grid position (Brain-Score-style placement, no crop)."""
    image_degrees = MAP_GEOMETRY[wildcards.dataset][0]
    return {
        **config["activations"],
        "reduction": {"method": "spatial", "grid": MAPS["feature_grid"]},
        "preprocessing": "brainscore",
        "stimulus_degrees": image_degrees,
        "model_degrees": map_field(wildcards),
        "pca_images": None,
    }


def arcaro_archive():
    """The published archive: the user's copy (config maps.arcaro2020_archive, checked by
    neuralign.config.check_maps), else the one rule download fetches into resources/ (trust
    on first use)."""
    path = MAPS["arcaro2020_archive"]
    if path:
        return path
    path = resource_path(ARCHIVE)
    REMOTE_FILES[path] = ARCHIVE
    if any(dataset.startswith("arcaro2020_") for dataset in MAP_DATASETS):
        NEEDED_DOWNLOADS[path] = ARCHIVE
    return path


ARCARO_ARCHIVE = arcaro_archive()


def by_accuracy():
    """Model ids of the lowest and the highest published ImageNet top-1 (the panel's two
    models; a top-1 measured by the workflow is not known when it starts), else the first and
    last models."""
    published = [row for row in model_rows() if not pd.isna(row["imagenet_top1"])]
    rows = sorted(published, key=lambda row: row["imagenet_top1"]) or model_rows()
    return [rows[0]["id"], rows[-1]["id"]] if len(rows) > 1 else [rows[0]["id"]]


def panel_label(model):
    """A panel column's title: the model and its published top-1."""
    top1 = MODEL_TABLE.loc[model, "imagenet_top1"]
    return model if pd.isna(top1) else f"{model} ({top1}% top-1)"


def maps_targets():
    """Outputs of this stage that `rule all` builds."""
    return expand(
        [
            "results/maps/{dataset}.csv",
            "results/figures/{dataset}/map_predictivity.png",
            "results/figures/{dataset}/map_predictivity.pdf",
            "results/figures/{dataset}/map_panel.png",
            "results/figures/{dataset}/map_panel.pdf",
        ],
        dataset=MAP_DATASETS,
    )
