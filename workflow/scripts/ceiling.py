"""Noise ceiling of every neuroid of a dataset: split-half over repetitions, given with the
dataset, or not available (responses published as repeat averages)."""

from neuralign.fitting.jobs import write_ceiling
from neuralign.io.jobs import run

run(snakemake, write_ceiling)
