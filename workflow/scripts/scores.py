"""Collect the fits of every model on one dataset into the scores table."""

from neuralign.io.jobs import run
from neuralign.reporting.jobs import write_table
from neuralign.reporting.scores import scores_table

run(
    snakemake,
    write_table,
    table=scores_table,
    rows="models",
    fit_paths=list(snakemake.input.fits),
    models=snakemake.params.models,
    dataset=snakemake.wildcards.dataset,
    out_path=snakemake.output.scores,
    alignment_paths=list(snakemake.input.alignment),
    imagenet_paths=list(snakemake.input.imagenet),
    top1_unavailable=snakemake.params.top1_unavailable,
)
