"""Map predictivity (nested leave-one-image-out) and feature-importance comparison of one
model on one map dataset."""

from neuralign.analyses.maps.jobs import write_map_fit
from neuralign.io.jobs import run

run(snakemake, write_map_fit)
