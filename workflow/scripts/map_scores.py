"""Collect the map fits of every model on one map dataset into one table."""

from neuralign.logs import log_to
from neuralign.maps import maps_table


def main(
    fit_paths: list[str],
    models: list[dict],
    dataset: str,
    out_path: str,
    log,
    imagenet_paths: list[str] = (),
    top1_unavailable: str | None = None,
) -> None:
    table = maps_table(fit_paths, models, dataset, imagenet_paths, top1_unavailable)
    table.to_csv(out_path, index=False)
    log.info("wrote %s: %d rows (model x mapping x array)", out_path, len(table))


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            list(snakemake.input.fits),
            snakemake.params.models,
            snakemake.wildcards.dataset,
            snakemake.output.table,
            log,
            list(snakemake.input.imagenet),
            snakemake.params.top1_unavailable,
        )
