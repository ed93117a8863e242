"""Convert Brain-Score's public MajajHong2015 assembly (one region) to the canonical format."""

from neuralign.datasets.jobs import write_majajhong2015
from neuralign.io.jobs import run

run(
    snakemake,
    write_majajhong2015,
    assembly=snakemake.input.assembly,
    stimulus_csv=snakemake.input.stimulus_csv,
    stimulus_zip=snakemake.input.stimulus_zip,
    region=snakemake.params.region,
    dataset_path=snakemake.output.dataset,
    image_dir=snakemake.output.images,
)
