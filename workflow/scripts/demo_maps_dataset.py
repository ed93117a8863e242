"""Generate the SIMULATED demo map dataset and its images."""

from neuralign.datasets.jobs import write_demo_dataset
from neuralign.io.jobs import run

run(
    snakemake,
    write_demo_dataset,
    ids={"simulated": True},
    kind="maps",
    dataset_path=snakemake.output.dataset,
    image_dir=snakemake.output.images,
    options=snakemake.params.demo,
)
