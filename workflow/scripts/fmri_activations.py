"""Seeded samples of units of one model's layers on the GOD stimuli (all subjects' images)."""

from neuralign.analyses.fmri.jobs import write_units
from neuralign.io.jobs import run

run(
    snakemake,
    write_units,
    ids={"dataset": "god_fmri"},
    dataset_paths=list(snakemake.input.datasets),
    out_path=snakemake.output.activations,
    model_id=snakemake.wildcards.model,
    source=snakemake.params.source,
    layer_spec=snakemake.params.layers,
    units=snakemake.params.units,
    seed=snakemake.params.seed,
    options=snakemake.params.options,
)
