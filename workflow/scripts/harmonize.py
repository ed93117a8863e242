"""Fine-tune a model with the neural harmonizer loss; write its checkpoint and training log."""

from neuralign.analyses.harmonizer.jobs import write_harmonized
from neuralign.analyses.harmonizer.runs import run_ids
from neuralign.io.jobs import run

run(
    snakemake,
    write_harmonized,
    ids=run_ids(snakemake.params.options),
    options=snakemake.params.options,
    clickme_train=list(snakemake.input.shards),
    imagenet_folder=snakemake.params.imagenet or None,
    model_path=snakemake.output.model,
    history_path=snakemake.output.history,
    device=snakemake.params.device,
)
