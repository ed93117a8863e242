"""Every selected alignment metric of one model on one dataset, layer chosen on training
stimuli, with the dataset's ceilings."""

from neuralign.fitting.alignment.jobs import write_alignment_fit
from neuralign.io.jobs import run

run(snakemake, write_alignment_fit)
