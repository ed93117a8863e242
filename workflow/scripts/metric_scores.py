"""Collect the alignment artifacts of every model on one dataset: one row per model × metric."""

from neuralign.io.jobs import run
from neuralign.reporting.jobs import write_scores

run(
    snakemake,
    write_scores,
    panel=True,
    fit_paths=list(snakemake.input.fits),
    models=snakemake.params.models,
    dataset=snakemake.wildcards.dataset,
    out_path=snakemake.output.scores,
    imagenet_paths=list(snakemake.input.imagenet),
)
