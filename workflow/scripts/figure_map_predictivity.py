"""Figure: ImageNet top-1 against map predictivity, one panel per array."""

from neuralign.io.artifacts import read_table, save_figure
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance
from neuralign.reporting.figures import map_predictivity_vs_accuracy


def main(
    table_path: str,
    png_path: str,
    pdf_path: str,
    mapping: str,
    title: str,
    log,
    provenance: dict,
) -> None:
    figure = map_predictivity_vs_accuracy(read_table(table_path), mapping, title)
    save_figure(figure, [png_path, pdf_path], provenance, dpi=200)
    log.info("wrote %s and %s", png_path, pdf_path)


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.input.table,
            snakemake.output.png,
            snakemake.output.pdf,
            snakemake.params.mapping,
            snakemake.params.title,
            log,
            job_provenance(snakemake),
        )
