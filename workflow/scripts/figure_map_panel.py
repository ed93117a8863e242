"""Figure: images, an IT map and the held-out maps predicted by a low- and a high-accuracy
model."""

from neuralign.io.jobs import run
from neuralign.reporting.jobs import write_map_panel

run(
    snakemake,
    write_map_panel,
    dataset_path=snakemake.input.dataset,
    fit_paths=list(snakemake.input.fits),
    labels=snakemake.params.labels,
    mapping=snakemake.params.mapping,
    n_images=snakemake.params.n_images,
    png_path=snakemake.output.png,
    pdf_path=snakemake.output.pdf,
)
