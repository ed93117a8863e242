"""Decoding and encoding scores of one GOD subject and one model's sampled units."""

from neuralign.analyses.fmri.jobs import write_subject_fit
from neuralign.io.jobs import run

run(
    snakemake,
    write_subject_fit,
    dataset_path=snakemake.input.dataset,
    activations_path=snakemake.input.activations,
    out_path=snakemake.output.fit,
    subject=snakemake.params.subject,
    model_id=snakemake.wildcards.model,
    options=snakemake.params.options,
)
