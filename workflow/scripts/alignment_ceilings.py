"""Ceilings of the selected alignment metrics on one dataset (once for every model)."""

from neuralign.fitting.alignment.jobs import write_alignment_ceilings
from neuralign.io.jobs import run

run(
    snakemake,
    write_alignment_ceilings,
    dataset_path=snakemake.input.dataset,
    out_path=snakemake.output.ceilings,
    metrics=snakemake.params.metrics,
    options=snakemake.params.options,
)
