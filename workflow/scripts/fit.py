"""Cross-validated ridge scores of one model on one dataset, layer chosen in the folds."""

import torch

from neuralign.activations.extraction import layer_arrays
from neuralign.fitting.mappings import MappingSpec
from neuralign.fitting.scoring import fit_model
from neuralign.io.artifacts import open_netcdf, write_netcdf
from neuralign.io.dataset import open_dataset, strata
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance
from neuralign.reporting.scores import most_chosen_layer


def main(
    activations_path: str,
    dataset_path: str,
    ceiling_path: str,
    out_path: str,
    options: dict,
    layer_source: str | None,
    threads: int,
    log,
    provenance: dict,
) -> None:
    torch.set_num_threads(threads)
    ds = open_dataset(dataset_path)
    ceiling = open_netcdf(ceiling_path)
    ceiling_values = ceiling["ceiling"].values
    ceiling_source = ceiling.attrs.get("ceiling_source", ceiling.attrs.get("method", ""))
    fixed_layer = None
    if layer_source:
        source = open_netcdf(layer_source)
        fixed_layer = (most_chosen_layer(source)[0], source.attrs["dataset"])
    activations = open_netcdf(activations_path)
    fit = fit_model(
        layer_arrays(activations),
        ds["responses"].values,
        strata(ds),
        ceiling_values,
        cv=options["cv"],
        fixed_layer=fixed_layer,
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
        ceiling_source=ceiling_source,
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


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.input.activations,
            snakemake.input.dataset,
            snakemake.input.ceiling,
            snakemake.output.fit,
            snakemake.params.options,
            snakemake.input.layer_source or None,
            snakemake.threads,
            log,
            job_provenance(snakemake),
        )
