"""Convert one subject of Generic Object Decoding fMRI (downloaded or SIMULATED files) to a
dataset."""

from neuralign.datasets.god_fmri import write_god_dataset
from neuralign.io.jobs import run

run(
    snakemake,
    write_god_dataset,
    subject_h5=snakemake.input.h5,
    subject=snakemake.params.subject,
    stimulus_dir=snakemake.input.stimuli or None,  # [] when config 'fmri.stimulus_dir' is null
    dataset_path=snakemake.output.dataset,
    image_dir=snakemake.output.images,
    simulated=snakemake.params.simulated,
    lock=snakemake.params.lock,
)
