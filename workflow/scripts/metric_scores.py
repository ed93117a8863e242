"""Collect the alignment artifacts of every model on one dataset: one row per model × metric."""

from neuralign.io.jobs import run
from neuralign.reporting.jobs import write_table
from neuralign.reporting.metric_panel import metrics_table

run(
    snakemake,
    write_table,
    table=metrics_table,
    rows="model x metric",
    fit_paths=list(snakemake.input.fits),
    models=snakemake.params.models,
    dataset=snakemake.wildcards.dataset,
    out_path=snakemake.output.scores,
    imagenet_paths=list(snakemake.input.imagenet),
)
