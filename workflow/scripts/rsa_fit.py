"""RSA scores of one model on an RDM dataset, layer chosen on held-out stimulus halves."""

from neuralign.fitting.jobs import write_rsa_fit
from neuralign.io.jobs import run

run(snakemake, write_rsa_fit)
