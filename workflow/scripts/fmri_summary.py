"""Tables of the fMRI experiment: median r per ROI x layer x model, paired model comparison."""

from neuralign.analyses.fmri.jobs import write_summary
from neuralign.io.jobs import run

run(snakemake, write_summary, ids={"dataset": "god_fmri"})
