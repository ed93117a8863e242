"""Convert one Cowley et al. (2023) V4 session to the canonical dataset format."""

from neuralign.datasets.jobs import write_cowley
from neuralign.io.jobs import run

run(
    snakemake,
    write_cowley,
    session=snakemake.wildcards.session,
    image_zip=snakemake.input.images,
    responses=snakemake.input.responses,
    raw=snakemake.params.raw,
    dataset_path=snakemake.output.dataset,
    image_dir=snakemake.output.images,
)
