"""Figure: ImageNet top-1 against ceiled neural predictivity, one point per model."""

from neuralign.io.artifacts import read_table, save_figure
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance
from neuralign.reporting.figures import accuracy_vs_predictivity


def main(scores_path: str, png_path: str, pdf_path: str, title: str, log, provenance: dict) -> None:
    figure = accuracy_vs_predictivity(read_table(scores_path), title)
    save_figure(figure, [png_path, pdf_path], provenance, dpi=200)
    log.info("wrote %s and %s", png_path, pdf_path)


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.input.scores,
            snakemake.output.png,
            snakemake.output.pdf,
            snakemake.params.title,
            log,
            job_provenance(snakemake),
        )
