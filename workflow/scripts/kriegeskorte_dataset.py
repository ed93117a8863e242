"""Convert the Kriegeskorte et al. (2008) 92-image set to an RDM-only dataset."""

from neuralign.datasets.jobs import write_kriegeskorte
from neuralign.io.jobs import run

run(snakemake, write_kriegeskorte)
