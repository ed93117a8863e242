"""Collect the fits of every model on one dataset into the scores table."""

from neuralign.io.jobs import run
from neuralign.reporting.jobs import write_table
from neuralign.reporting.scores import scores_table

run(snakemake, write_table, table=scores_table, rows="models")
