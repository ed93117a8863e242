"""Ceilings of the selected alignment metrics on one dataset (once for every model)."""

from neuralign.fitting.alignment.jobs import write_alignment_ceilings
from neuralign.io.jobs import run

run(snakemake, write_alignment_ceilings)
