"""Write SIMULATED subjects' GOD files (HDF5 in the published layout and stimulus images)."""

from neuralign.analyses.fmri.jobs import write_simulated_god
from neuralign.io.jobs import run

run(snakemake, write_simulated_god, ids={"dataset": "god_fmri", "simulated": True})
