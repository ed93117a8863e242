"""Extract layer activations of one model on one dataset's stimuli (content-addressed cache)."""

from neuralign.activations.jobs import write_activations
from neuralign.io.jobs import run

run(snakemake, write_activations)
