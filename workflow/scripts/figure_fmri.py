"""Figure: the fMRI experiment, ROI x layer, both models (decoding and encoding)."""

from neuralign.io.artifacts import read_table, save_figure
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance
from neuralign.reporting.figures import fmri_roi_layer


def main(
    summary_path: str,
    comparison_path: str,
    outputs: dict[str, tuple[str, str]],
    log,
    provenance: dict,
):
    summary, comparison = read_table(summary_path), read_table(comparison_path)
    for direction, paths in outputs.items():
        figure = fmri_roi_layer(summary, comparison, direction)
        save_figure(figure, paths, provenance, dpi=200)
        log.info("wrote %s", paths)


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.input.summary,
            snakemake.input.comparison,
            {
                "decoding": (snakemake.output.png, snakemake.output.pdf),
                "encoding": (snakemake.output.encoding_png, snakemake.output.encoding_pdf),
            },
            log,
            job_provenance(snakemake, dataset="god_fmri"),
        )
