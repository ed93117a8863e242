"""Generate a SIMULATED demo dataset (responses, or maps) and its stimulus images."""

from neuralign.datasets.jobs import write_demo_dataset
from neuralign.io.jobs import run

run(snakemake, write_demo_dataset, ids={"simulated": True})
