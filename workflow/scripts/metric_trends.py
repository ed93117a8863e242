"""Table: per alignment metric, Spearman of ImageNet top-1 with the score below and above 70%."""

from neuralign.io.artifacts import read_table, write_csv
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance
from neuralign.reporting.metric_panel import trend_table


def main(
    scores_path: str, out_path: str, n_bootstrap: int, seed: int, log, provenance: dict
) -> None:
    table = trend_table(read_table(scores_path), n_bootstrap, seed)
    write_csv(table, out_path, provenance)
    log.info("\n%s", table.to_string(index=False))


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.input.scores,
            snakemake.output.table,
            snakemake.params.n_bootstrap,
            snakemake.params.seed,
            log,
            job_provenance(snakemake),
        )
