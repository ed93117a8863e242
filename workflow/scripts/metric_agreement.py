"""Table: Kendall's τ between the model rankings of every two alignment metrics."""

from neuralign.io.artifacts import read_table, write_csv
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance
from neuralign.reporting.metric_panel import rank_agreement


def main(scores_path: str, out_path: str, log, provenance: dict) -> None:
    table = rank_agreement(read_table(scores_path)).reset_index()
    write_csv(table, out_path, provenance)
    log.info("\n%s", table.round(2).to_string(index=False))


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(snakemake.input.scores, snakemake.output.table, log, job_provenance(snakemake))
