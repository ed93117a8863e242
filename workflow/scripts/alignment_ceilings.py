"""Ceilings of the selected alignment metrics on one dataset (once for every model)."""

import torch

from neuralign.fitting.alignment import AlignmentSpec, alignment_ceilings
from neuralign.io.artifacts import write_netcdf
from neuralign.io.dataset import open_dataset, strata
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance


def main(
    dataset_path: str,
    out_path: str,
    metrics: list[str],
    options: dict,
    threads: int,
    log,
    provenance: dict,
) -> None:
    torch.set_num_threads(threads)
    ds = open_dataset(dataset_path)
    out = alignment_ceilings(
        ds["responses"].values, strata(ds), metrics, AlignmentSpec.from_options(options)
    )
    out.attrs["dataset"] = ds.attrs["dataset"]
    write_netcdf(out, out_path, provenance)
    log.info(
        "ceilings (mean over splits) %s; %s",
        dict(zip(metrics, out["ceiling_per_split"].mean("split").values.round(3), strict=True)),
        out.attrs["ceiling"],
    )


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.input.dataset,
            snakemake.output.ceilings,
            snakemake.params.metrics,
            snakemake.params.options,
            snakemake.threads,
            log,
            job_provenance(snakemake),
        )
