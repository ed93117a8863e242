"""Decoding and encoding scores of one GOD subject and one model's sampled units."""

from neuralign.analyses.fmri.jobs import write_subject_fit
from neuralign.io.jobs import run

run(snakemake, write_subject_fit)
