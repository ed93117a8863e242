"""The map stage's workflow job: map predictivity (with attribution) of one model on one map
dataset; it reads its inputs, calls the library, writes (the tables and figures of the maps are
``neuralign.reporting.jobs``')."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from neuralign.activations.reading import layer_names
from neuralign.analyses.maps.attribution import dataset_attributions
from neuralign.analyses.maps.geometry import (
    field_degrees,
    grid_step,
    neuroid_arrays,
    spatial_layers,
)
from neuralign.analyses.maps.predictivity import fit_map_model
from neuralign.fitting.mappings import MappingSpec
from neuralign.io.artifacts import open_netcdf, write_netcdf
from neuralign.io.dataset import DatasetError, open_dataset, stimulus_images
from neuralign.models.loading import load_model
from neuralign.models.preprocessing import brainscore_transform


def check_geometry(ds: xr.Dataset, dataset_path: str, field: float) -> tuple[float, float]:
    """The grid step and image size (degrees) of a map dataset; DatasetError unless it is one
    and its grid needs the ``field`` the activations were extracted with."""
    if "maps" not in ds:
        raise DatasetError(f"{dataset_path}: has no 'maps' variable; it is not a map dataset")
    y, x = ds["y"].values, ds["x"].values
    step = grid_step(y)
    image_degrees = float(ds.attrs["image_size_deg"])
    expected = field_degrees(image_degrees, y, x, step)
    if not np.isclose(expected, field):
        raise DatasetError(
            f"{dataset_path}: its grid needs a {expected} deg field of view but the activations "
            f"were extracted with {field} deg; update MAP_GEOMETRY in workflow/rules/maps.smk"
        )
    return step, image_degrees


def spatial_layer_maps(acts: xr.Dataset, activations_path: str) -> tuple[dict, list]:
    """layer → (image, C, h, w) of the layers that kept spatial features, and the others;
    ValueError when none did."""
    spatial, skipped = spatial_layers(acts, layer_names(acts))
    if not spatial:
        raise ValueError(
            f"{activations_path}: no layer kept spatial (channel, y, x) features; "
            "map datasets need convolutional layers"
        )
    return {layer: acts[layer].values for layer in spatial}, skipped


def attribution(ds, root, source, result, layers, geometry, options, log) -> xr.Dataset:
    """Attributions of the readouts fitted without each image, on that image, vs IT maps.

    ``geometry`` is (field, step, image degrees, model input size, stored feature grid)."""
    field, step, image_degrees, image_size, feature_grid = geometry
    module = load_model(source).module.to(options["device"]).eval()
    result_layers = [str(layers[chosen]) for chosen in result["chosen"]]
    fit = dataset_attributions(
        ds,
        root,
        module,
        brainscore_transform(image_size, image_degrees, field),
        result["fits"],
        result_layers,
        (field, step, feature_grid),
        device=options["device"],
        log=log.info,
    )
    fit.attrs["attribution"] = (
        f"readouts ({options['attribution_mapping']}) fitted without the "
        "image, chosen layer of that fold; saliency = |d readout / d input| max over colour "
        "channels, gradient_input = |sum_c grad_c input_c|; projected on the grid by "
        "average pooling over each position's cell; Spearman over positions with the IT "
        "map at full and quarter (2x2 blocks) resolution; summary: median over the array's "
        "neuroids of the mean over images"
    )
    return fit


def write_map_fit(
    *,
    dataset_path: str,
    activations_path: str,
    out_path: str,
    model: str,
    source: str,
    field: float,
    options: dict,
    image_size: int,
    log,
    provenance: dict,
) -> None:
    """Map predictivity (nested leave-one-image-out) and, with ``options['attribution']``, the
    feature-importance comparison of one model on one map dataset."""
    ds = open_dataset(dataset_path)
    step, image_degrees = check_geometry(ds, dataset_path, field)
    acts = open_netcdf(activations_path)
    layer_maps, skipped = spatial_layer_maps(acts, activations_path)
    spatial = list(layer_maps)
    feature_grid = acts[spatial[0]].shape[-1]
    log.info("layers %s (skipped, not spatial: %s); field %.1f deg", spatial, skipped, field)
    arrays = neuroid_arrays(ds)
    specs = [MappingSpec.from_options(options, kind) for kind in options["mappings"]]
    repetitions = ds["map_repetitions"].values if "map_repetitions" in ds else None
    fit, results = fit_map_model(
        layer_maps,
        ds["maps"].values,
        ds["y"].values,
        ds["x"].values,
        field,
        arrays,
        specs,
        repetitions=repetitions,
        ceiling_splits=options["ceiling_splits"],
        ceiling_seed=options["ceiling_seed"],
        n_bootstrap=options["n_bootstrap"],
        bootstrap_seed=options["bootstrap_seed"],
    )
    if options["attribution"]:
        geometry = (field, step, image_degrees, image_size, feature_grid)
        result = results[options["attribution_mapping"]]
        stimulus_images(ds, dataset_path)  # every image decodes, before the model loads
        root = Path(dataset_path).parent
        fit = fit.merge(
            attribution(ds, root, source, result, fit["layer"].values, geometry, options, log)
        )
    fit = fit.assign_coords(
        stimulus_id=("stimulus", ds["stimulus_id"].values),
        neuroid_id=("neuroid", ds["neuroid_id"].values),
        neuroid_array=("neuroid", arrays),
        y=ds["y"],
        x=ds["x"],
    )
    fit.attrs.update(
        dataset=ds.attrs["dataset"],
        model=model,
        model_source=source,
        skipped_layers=", ".join(skipped) or "none",
        feature_grid=feature_grid,
    )
    write_netcdf(fit, out_path, provenance)
    log_map_scores(fit, log)


def log_map_scores(fit: xr.Dataset, log) -> None:
    """Per mapping: raw predictivity per array and the chosen layers."""
    for mapping in fit["mapping"].values:
        log.info(
            "%s: raw %s per array %s; chosen layers %s",
            mapping,
            np.round(fit["raw"].sel(mapping=mapping).values, 3),
            list(fit["array"].values),
            fit["chosen_layer"].sel(mapping=mapping).values,
        )
