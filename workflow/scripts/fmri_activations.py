"""Seeded samples of units of one model's layers on the GOD stimuli (all subjects' images)."""

from neuralign.analyses.fmri.jobs import write_units
from neuralign.io.jobs import run

run(snakemake, write_units, ids={"dataset": "god_fmri"})
