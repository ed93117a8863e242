"""RSA scores of one model on an RDM dataset, layer chosen on held-out stimulus halves."""

from neuralign.activations.extraction import read_activations
from neuralign.fitting.scoring import fit_rsa_model
from neuralign.io.artifacts import write_netcdf
from neuralign.io.dataset import open_dataset
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance


def main(
    activations_path: str, dataset_path: str, out_path: str, options: dict, log, provenance: dict
) -> None:
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


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.input.activations,
            snakemake.input.dataset,
            snakemake.output.fit,
            snakemake.params.options,
            log,
            job_provenance(snakemake),
        )
