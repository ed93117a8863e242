"""The fitting stage's workflow jobs: cross-validated scores, RSA scores and noise ceilings.
Each reads its inputs, calls the library, writes its artifact and logs a summary. The fits
import the fitting engine (torch, scikit-learn) where they run, so that a ceiling job, which
needs neither, starts in a fraction of the time."""

from __future__ import annotations

import xarray as xr

from neuralign.activations.reading import layer_arrays, read_activations
from neuralign.fitting.ceilings import dataset_ceiling
from neuralign.fitting.chosen import most_chosen_layer
from neuralign.io.artifacts import open_netcdf, write_netcdf
from neuralign.io.dataset import open_dataset, strata


def fixed_layer(layer_source: str | None) -> tuple[str, str] | None:
    """(layer, dataset): the layer most chosen in the fits artifact ``layer_source`` and the
    dataset it was chosen on (Brain-Score's scheme); None without one."""
    if not layer_source:
        return None
    source = open_netcdf(layer_source)
    return most_chosen_layer(source)[0], source.attrs["dataset"]


def ceiling_source(ceiling: xr.Dataset) -> str:
    """Where a ceilings artifact's values come from."""
    return ceiling.attrs.get("ceiling_source", ceiling.attrs.get("method", ""))


def write_fit(
    *,
    activations_path: str,
    dataset_path: str,
    ceiling_path: str,
    out_path: str,
    options: dict,
    layer_source: str | None,
    log,
    provenance: dict,
) -> None:
    """Cross-validated scores of one model on one dataset, the layer chosen in the folds (or
    on the dataset of ``layer_source``)."""
    from neuralign.fitting.mappings import MappingSpec
    from neuralign.fitting.scoring import fit_model

    ds = open_dataset(dataset_path)
    ceiling = open_netcdf(ceiling_path)
    chosen_elsewhere = fixed_layer(layer_source)
    activations = open_netcdf(activations_path)
    fit = fit_model(
        layer_arrays(activations),
        ds["responses"].values,
        strata(ds),
        ceiling["ceiling"].values,
        cv=options["cv"],
        fixed_layer=chosen_elsewhere,
        n_splits=options["n_splits"],
        train_size=options["train_size"],
        split_seed=options["split_seed"],
        mapping=MappingSpec.from_options(options),
        formula=options["ceiling_formula"],
        n_bootstrap=options["n_bootstrap"],
        bootstrap_seed=options["bootstrap_seed"],
    )
    fit = fit.assign_coords(neuroid_id=("neuroid", ds["neuroid_id"].values))
    fit.attrs.update(
        dataset=ds.attrs["dataset"],
        model_source=activations.attrs["model_source"],
        ceiling_source=ceiling_source(ceiling),
    )
    write_netcdf(fit, out_path, provenance)
    log.info(
        "raw %.3f ± %.3f, ceiling %.3f, ceiled %.3f; layers chosen %s",
        fit["raw"],
        fit["raw_sem"],
        fit["ceiling"],
        fit["ceiled"],
        fit["chosen_layer"].values,
    )


def write_rsa_fit(
    *, activations_path: str, dataset_path: str, out_path: str, options: dict, log, provenance
) -> None:
    """RSA scores of one model on an RDM dataset, the layer chosen on held-out stimulus
    halves."""
    from neuralign.fitting.scoring import fit_rsa_model

    ds = open_dataset(dataset_path)
    fit = fit_rsa_model(
        read_activations(activations_path),
        ds,
        options["target"],
        method=options["method"],
        n_splits=options["n_splits"],
        seed=options["seed"],
    )
    fit.attrs.update(dataset=ds.attrs["dataset"])
    write_netcdf(fit, out_path, provenance)
    log.info(
        "RSA %.3f (ceiling %.3f-%.3f); layers chosen %s",
        fit["raw"],
        fit["ceiling_lower"],
        fit["ceiling"],
        fit["chosen_layer"].values,
    )


def write_ceiling(
    *,
    dataset_path: str,
    ceiling_path: str,
    n_splits: int,
    seed: int,
    n_bootstrap: int,
    log,
    provenance: dict,
) -> None:
    """Noise ceiling of every neuroid of a dataset: split-half over repetitions, given with
    the dataset, or not available (responses published as repeat averages)."""
    out = dataset_ceiling(open_dataset(dataset_path), n_splits, seed, n_bootstrap)
    write_netcdf(out, ceiling_path, provenance)
    log.info(
        "median ceiling %.3f [%.3f, %.3f]; %s",
        out["median"],
        out["median_ci_low"],
        out["median_ci_high"],
        out.attrs["ceiling_source"],
    )
