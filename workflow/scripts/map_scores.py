"""Collect the map fits of every model on one map dataset into one table."""

from neuralign.analyses.maps import maps_table
from neuralign.io.artifacts import write_csv
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance


def main(
    fit_paths: list[str],
    models: list[dict],
    dataset: str,
    out_path: str,
    log,
    provenance: dict,
    imagenet_paths: list[str] = (),
    top1_unavailable: str | None = None,
) -> None:
    table = maps_table(fit_paths, models, dataset, imagenet_paths, top1_unavailable)
    write_csv(table, out_path, provenance)
    log.info("wrote %s: %d rows (model x mapping x array)", out_path, len(table))


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            list(snakemake.input.fits),
            snakemake.params.models,
            snakemake.wildcards.dataset,
            snakemake.output.table,
            log,
            job_provenance(snakemake),
            list(snakemake.input.imagenet),
            snakemake.params.top1_unavailable,
        )
