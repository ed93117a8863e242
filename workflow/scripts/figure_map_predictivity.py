"""Figure: ImageNet top-1 against map predictivity, one panel per array."""

from neuralign.io.jobs import run
from neuralign.reporting.figures import map_predictivity_vs_accuracy
from neuralign.reporting.jobs import write_figure

run(
    snakemake,
    write_figure,
    plot=map_predictivity_vs_accuracy,
    table_path=snakemake.input.table,
    png_path=snakemake.output.png,
    pdf_path=snakemake.output.pdf,
    mapping=snakemake.params.mapping,
    title=snakemake.params.title,
)
