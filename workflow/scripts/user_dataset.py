"""Convert a dataset declared in config 'user_datasets' to the canonical format."""

from neuralign.datasets.jobs import write_user_dataset
from neuralign.io.jobs import run

run(snakemake, write_user_dataset, ids={"dataset": snakemake.wildcards.name})
