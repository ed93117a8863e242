"""Extract layer activations of one model on one dataset's stimuli (content-addressed cache)."""

from neuralign.activations.jobs import write_activations
from neuralign.io.jobs import run

run(
    snakemake,
    write_activations,
    dataset_path=snakemake.input.dataset,
    out_path=snakemake.output.activations,
    model_id=snakemake.wildcards.model,
    source=snakemake.params.source,
    layer_spec=snakemake.params.layers,
    options=snakemake.params.options,
)
