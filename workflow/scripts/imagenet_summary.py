"""Measured ImageNet top-1 of every selected model beside the model table's number."""

from neuralign.analyses.imagenet import accuracy_table
from neuralign.io.artifacts import write_csv
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance


def main(paths: list[str], models: list[dict], out_path: str, log, provenance: dict) -> None:
    table = accuracy_table(paths, models)
    write_csv(table, out_path, provenance)
    log.info("wrote %s with %d models", out_path, len(table))


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            list(snakemake.input.accuracy),
            snakemake.params.models,
            snakemake.output.table,
            log,
            job_provenance(snakemake, dataset="imagenet_val"),
        )
