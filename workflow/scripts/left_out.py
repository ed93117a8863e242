"""The report's "left out" table: stages left out for a missing gated input."""

from neuralign.gated import write_left_out
from neuralign.io.jobs import run

run(snakemake, write_left_out)
