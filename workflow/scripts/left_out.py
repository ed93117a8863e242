"""The report's "left out" table: stages left out for a missing gated input."""

from neuralign.gated import left_out_table
from neuralign.logs import log_to


def main(stages: list[dict], out_path: str, log) -> None:
    table = left_out_table(stages)
    table.to_csv(out_path, index=False)
    log.info("left out:\n%s", table.to_string(index=False))


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(snakemake.params.stages, snakemake.output.table, log)
