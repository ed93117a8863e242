"""Convert one subject of Generic Object Decoding fMRI (downloaded or SIMULATED files) to a
dataset."""

from neuralign.datasets.god_fmri import write_god_dataset
from neuralign.io.jobs import run

run(snakemake, write_god_dataset, stimulus_dir=snakemake.input.stimuli or None)
