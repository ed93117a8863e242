"""Fine-tune a model with the neural harmonizer loss; write its checkpoint and training log."""

from neuralign.analyses.harmonizer.jobs import write_harmonized
from neuralign.analyses.harmonizer.runs import run_ids
from neuralign.io.jobs import run

run(
    snakemake,
    write_harmonized,
    ids=run_ids(snakemake.params.options),
    imagenet_folder=snakemake.params.imagenet or None,
)
