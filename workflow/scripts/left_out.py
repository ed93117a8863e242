"""The report's "left out" table: stages left out for a missing gated input."""

from neuralign.gated import left_out_table
from neuralign.io.artifacts import write_csv
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance


def main(stages: list[dict], out_path: str, log, provenance: dict) -> None:
    table = left_out_table(stages)
    write_csv(table, out_path, provenance)
    log.info("left out:\n%s", table.to_string(index=False))


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(snakemake.params.stages, snakemake.output.table, log, job_provenance(snakemake))
