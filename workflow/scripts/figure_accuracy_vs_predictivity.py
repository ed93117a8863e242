"""Figure: ImageNet top-1 against ceiled neural predictivity, one point per model."""

import pandas as pd

from neuralign.figures import accuracy_vs_predictivity
from neuralign.logs import log_to


def main(scores_path: str, png_path: str, pdf_path: str, title: str, log) -> None:
    figure = accuracy_vs_predictivity(pd.read_csv(scores_path), title)
    figure.savefig(png_path, dpi=200)
    figure.savefig(pdf_path)
    log.info("wrote %s and %s", png_path, pdf_path)


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.input.scores,
            snakemake.output.png,
            snakemake.output.pdf,
            snakemake.params.title,
            log,
        )
