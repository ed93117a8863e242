"""Figure: ImageNet top-1 against every alignment metric, one panel per metric."""

from neuralign.io.jobs import run
from neuralign.reporting.jobs import write_figure

run(
    snakemake,
    write_figure,
    panel=True,
    scores_path=snakemake.input.scores,
    png_path=snakemake.output.png,
    pdf_path=snakemake.output.pdf,
    title=snakemake.params.title,
)
