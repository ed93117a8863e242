"""Collect the map fits of every model on one map dataset into one table."""

from neuralign.io.jobs import run
from neuralign.reporting.jobs import write_map_scores

run(
    snakemake,
    write_map_scores,
    fit_paths=list(snakemake.input.fits),
    models=snakemake.params.models,
    dataset=snakemake.wildcards.dataset,
    out_path=snakemake.output.table,
    imagenet_paths=list(snakemake.input.imagenet),
    top1_unavailable=snakemake.params.top1_unavailable,
)
