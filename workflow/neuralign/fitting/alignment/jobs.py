"""The alignment panel's workflow jobs: the ceilings of the selected metrics on one dataset, and
the metrics of one model's layers on it."""

from __future__ import annotations

import numpy as np
import xarray as xr

from neuralign.activations.reading import layer_arrays
from neuralign.fitting.alignment.base import AlignmentSpec
from neuralign.fitting.alignment.scoring import alignment_ceilings, score_alignment
from neuralign.io.artifacts import open_netcdf, write_netcdf
from neuralign.io.dataset import open_dataset, strata


def read_neural(
    dataset_path: str, options: dict
) -> tuple[xr.Dataset, np.ndarray, np.ndarray | None, AlignmentSpec]:
    """The dataset at ``dataset_path``, its responses and its strata, and the panel's spec
    built from the config's alignment ``options``."""
    ds = open_dataset(dataset_path)
    return ds, ds["responses"].values, strata(ds), AlignmentSpec.from_options(options)


def write_alignment_ceilings(
    *, dataset_path: str, out_path: str, metrics: list[str], options: dict, log, provenance: dict
) -> None:
    """Ceilings of the selected alignment metrics on one dataset (once for every model)."""
    ds, responses, groups, spec = read_neural(dataset_path, options)
    out = alignment_ceilings(responses, groups, metrics, spec)
    out.attrs["dataset"] = ds.attrs["dataset"]
    write_netcdf(out, out_path, provenance)
    log.info(
        "ceilings (mean over splits) %s; %s",
        dict(zip(metrics, out["ceiling_per_split"].mean("split").values.round(3), strict=True)),
        out.attrs["ceiling"],
    )


def write_alignment_fit(
    *,
    activations_path: str,
    dataset_path: str,
    ceilings_path: str,
    out_path: str,
    metrics: list[str],
    options: dict,
    log,
    provenance: dict,
) -> None:
    """Every selected alignment metric of one model on one dataset, layer chosen on training
    stimuli, with the dataset's ceilings."""
    ds, responses, groups, spec = read_neural(dataset_path, options)
    activations = open_netcdf(activations_path)
    fit = score_alignment(
        layer_arrays(activations),
        responses,
        groups,
        metrics,
        spec,
        open_netcdf(ceilings_path),
    )
    fit.attrs.update(dataset=ds.attrs["dataset"], model_source=activations.attrs["model_source"])
    write_netcdf(fit, out_path, provenance)
    log.info("\n%s", fit[["raw", "ceiling", "ceiled"]].to_dataframe().round(3).to_string())
