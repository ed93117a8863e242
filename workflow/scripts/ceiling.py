"""Noise ceiling of every neuroid of a dataset: split-half over repetitions, given with the
dataset, or not available (responses published as repeat averages)."""

from neuralign.fitting.ceilings import dataset_ceiling
from neuralign.io.artifacts import write_netcdf
from neuralign.io.dataset import open_dataset
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance


def main(
    dataset_path: str,
    ceiling_path: str,
    n_splits: int,
    seed: int,
    n_bootstrap: int,
    log,
    provenance: dict,
) -> None:
    out = dataset_ceiling(open_dataset(dataset_path), n_splits, seed, n_bootstrap)
    write_netcdf(out, ceiling_path, provenance)
    log.info(
        "median ceiling %.3f [%.3f, %.3f]; %s",
        out["median"],
        out["median_ci_low"],
        out["median_ci_high"],
        out.attrs["ceiling_source"],
    )


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.input.dataset,
            snakemake.output.ceiling,
            snakemake.params.n_splits,
            snakemake.params.seed,
            snakemake.params.n_bootstrap,
            log,
            job_provenance(snakemake),
        )
