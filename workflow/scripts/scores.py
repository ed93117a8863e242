"""Collect the fits of every model on one dataset into the scores table."""

from neuralign.io.artifacts import write_csv
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance
from neuralign.reporting.scores import scores_table


def main(
    fit_paths: list[str],
    models: list[dict],
    dataset: str,
    out_path: str,
    log,
    provenance: dict,
    alignment_paths: list[str] = (),
    imagenet_paths: list[str] = (),
    top1_unavailable: str | None = None,
) -> None:
    table = scores_table(
        fit_paths, models, dataset, alignment_paths, imagenet_paths, top1_unavailable
    )
    write_csv(table, out_path, provenance)
    log.info("wrote %s with %d models", out_path, len(table))


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            list(snakemake.input.fits),
            snakemake.params.models,
            snakemake.wildcards.dataset,
            snakemake.output.scores,
            log,
            job_provenance(snakemake),
            list(snakemake.input.alignment),
            list(snakemake.input.imagenet),
            snakemake.params.top1_unavailable,
        )
