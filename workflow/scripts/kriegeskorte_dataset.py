"""Convert the Kriegeskorte et al. (2008) 92-image set to an RDM-only dataset."""

from neuralign.datasets.jobs import write_kriegeskorte
from neuralign.io.jobs import run

run(
    snakemake,
    write_kriegeskorte,
    supplemental=snakemake.input.supplemental,
    brain_rdms=snakemake.input.brain_rdms,
    dataset_path=snakemake.output.dataset,
    image_dir=snakemake.output.images,
)
