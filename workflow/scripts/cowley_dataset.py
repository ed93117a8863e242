"""Convert one Cowley et al. (2023) V4 session to the canonical dataset format."""

from neuralign.datasets.jobs import write_cowley
from neuralign.io.jobs import run

run(snakemake, write_cowley)
