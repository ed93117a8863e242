"""Collect the map fits of every model on one map dataset into one table."""

from neuralign.analyses.maps import maps_table
from neuralign.io.jobs import run
from neuralign.reporting.jobs import write_table

run(
    snakemake,
    write_table,
    table=maps_table,
    rows="model x mapping x array",
    fit_paths=list(snakemake.input.fits),
    models=snakemake.params.models,
    dataset=snakemake.wildcards.dataset,
    out_path=snakemake.output.table,
    imagenet_paths=list(snakemake.input.imagenet),
    top1_unavailable=snakemake.params.top1_unavailable,
)
