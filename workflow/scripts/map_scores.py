"""Collect the map fits of every model on one map dataset into one table."""

from neuralign.analyses.maps.tables import maps_table
from neuralign.io.jobs import run
from neuralign.reporting.jobs import write_table

run(snakemake, write_table, table=maps_table, rows="model x mapping x array")
