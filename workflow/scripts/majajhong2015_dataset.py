"""Convert Brain-Score's public MajajHong2015 assembly (one region) to the canonical format."""

from neuralign.datasets.jobs import write_majajhong2015
from neuralign.io.jobs import run

run(snakemake, write_majajhong2015)
