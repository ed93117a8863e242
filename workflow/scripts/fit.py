"""Cross-validated ridge scores of one model on one dataset, layer chosen in the folds."""

from neuralign.fitting.jobs import write_fit
from neuralign.io.jobs import run

run(
    snakemake,
    write_fit,
    activations_path=snakemake.input.activations,
    dataset_path=snakemake.input.dataset,
    ceiling_path=snakemake.input.ceiling,
    out_path=snakemake.output.fit,
    options=snakemake.params.options,
    layer_source=snakemake.input.layer_source or None,
)
