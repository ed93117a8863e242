"""Figure: ImageNet top-1 against map predictivity, one panel per array."""

import pandas as pd

from neuralign.figures import map_predictivity_vs_accuracy
from neuralign.logs import log_to


def main(table_path: str, png_path: str, pdf_path: str, mapping: str, title: str, log) -> None:
    figure = map_predictivity_vs_accuracy(pd.read_csv(table_path), mapping, title)
    figure.savefig(png_path, dpi=200)
    figure.savefig(pdf_path)
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
        )
