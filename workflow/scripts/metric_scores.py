"""Collect the alignment artifacts of every model on one dataset: one row per model × metric."""

from neuralign.io.artifacts import write_csv
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance
from neuralign.reporting.metric_panel import metrics_table


def main(
    fit_paths: list[str],
    models: list[dict],
    dataset: str,
    out_path: str,
    log,
    provenance: dict,
    imagenet_paths: list[str] = (),
) -> None:
    table = metrics_table(fit_paths, models, dataset, imagenet_paths)
    write_csv(table, out_path, provenance)
    log.info("wrote %s: %d models × %d metrics", out_path, len(models), table["metric"].nunique())


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            list(snakemake.input.fits),
            snakemake.params.models,
            snakemake.wildcards.dataset,
            snakemake.output.scores,
            log,
            job_provenance(snakemake),
            list(snakemake.input.imagenet),
        )
