"""Figure: the fMRI experiment, ROI x layer, both models (decoding and encoding)."""

import pandas as pd

from neuralign.figures import fmri_roi_layer
from neuralign.logs import log_to


def main(summary_path: str, comparison_path: str, outputs: dict[str, tuple[str, str]], log):
    summary, comparison = pd.read_csv(summary_path), pd.read_csv(comparison_path)
    for direction, paths in outputs.items():
        figure = fmri_roi_layer(summary, comparison, direction)
        for path in paths:
            figure.savefig(path, dpi=200)
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
        )
