"""Collect the alignment artifacts of every model on one dataset: one row per model × metric."""

from neuralign.io.jobs import run
from neuralign.reporting.jobs import write_table
from neuralign.reporting.metric_panel import metrics_table

run(snakemake, write_table, table=metrics_table, rows="model x metric")
