"""Collect the fits of every model on one dataset into the scores table."""

from neuralign.io.jobs import run
from neuralign.reporting.jobs import write_scores

run(
    snakemake,
    write_scores,
    fit_paths=list(snakemake.input.fits),
    models=snakemake.params.models,
    dataset=snakemake.wildcards.dataset,
    out_path=snakemake.output.scores,
    alignment_paths=list(snakemake.input.alignment),
    imagenet_paths=list(snakemake.input.imagenet),
    top1_unavailable=snakemake.params.top1_unavailable,
)
