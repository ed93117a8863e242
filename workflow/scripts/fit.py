"""Cross-validated ridge scores of one model on one dataset, layer chosen in the folds."""

from neuralign.fitting.jobs import write_fit
from neuralign.io.jobs import run

run(snakemake, write_fit, layer_source=snakemake.input.layer_source or None)
