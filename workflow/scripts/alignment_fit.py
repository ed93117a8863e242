"""Every selected alignment metric of one model on one dataset, layer chosen on training
stimuli, with the dataset's ceilings."""

import torch

from neuralign.activations.extraction import layer_arrays
from neuralign.fitting.alignment import AlignmentSpec, score_alignment
from neuralign.io.artifacts import open_netcdf, write_netcdf
from neuralign.io.dataset import open_dataset, strata
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance


def main(
    activations_path: str,
    dataset_path: str,
    ceilings_path: str,
    out_path: str,
    metrics: list[str],
    options: dict,
    threads: int,
    log,
    provenance: dict,
) -> None:
    torch.set_num_threads(threads)
    ds = open_dataset(dataset_path)
    activations = open_netcdf(activations_path)
    fit = score_alignment(
        layer_arrays(activations),
        ds["responses"].values,
        strata(ds),
        metrics,
        AlignmentSpec.from_options(options),
        open_netcdf(ceilings_path),
    )
    fit.attrs.update(dataset=ds.attrs["dataset"], model_source=activations.attrs["model_source"])
    write_netcdf(fit, out_path, provenance)
    log.info("\n%s", fit[["raw", "ceiling", "ceiled"]].to_dataframe().round(3).to_string())


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.input.activations,
            snakemake.input.dataset,
            snakemake.input.ceilings,
            snakemake.output.fit,
            snakemake.params.metrics,
            snakemake.params.options,
            snakemake.threads,
            log,
            job_provenance(snakemake),
        )
