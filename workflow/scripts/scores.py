"""Collect the fits of every model on one dataset into the scores table."""

from neuralign.io.jobs import run
from neuralign.reporting.jobs import scores

run(snakemake, scores)
