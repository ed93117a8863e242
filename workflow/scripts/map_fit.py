"""Map predictivity (nested leave-one-image-out) and feature-importance comparison of one
model on one map dataset."""

from neuralign.analyses.maps.jobs import write_map_fit
from neuralign.io.jobs import run

run(
    snakemake,
    write_map_fit,
    dataset_path=snakemake.input.dataset,
    activations_path=snakemake.input.activations,
    out_path=snakemake.output.fit,
    model_id=snakemake.wildcards.model,
    source=snakemake.params.source,
    field=snakemake.params.field,
    options=snakemake.params.options,
    image_size=snakemake.params.image_size,
)
