"""Fine-tune a model with the neural harmonizer loss; write its checkpoint and training log."""

from pathlib import Path

import pandas as pd
import torch

from neuralign.analyses.harmonizer import harmonize, run_ids
from neuralign.io.artifacts import write_csv
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance


def main(
    options: dict,
    clickme_train: list[str],
    imagenet_folder: str | None,
    model_path: str,
    history_path: str,
    device: str,
    threads: int,
    log,
    provenance: dict,
) -> None:
    torch.set_num_threads(threads)
    log.info("harmonizer run %s", options)
    history = harmonize(
        options,
        Path(model_path).parent,
        clickme_train=clickme_train,
        imagenet_folder=imagenet_folder,
        device=device,
        log=lambda record: log.info("epoch %s", record),
        provenance=provenance,
    )
    write_csv(pd.DataFrame(history), history_path, provenance)
    log.info("wrote %s and %s", model_path, history_path)


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.params.options,
            list(snakemake.input.shards),
            snakemake.params.imagenet or None,
            snakemake.output.model,
            snakemake.output.history,
            snakemake.params.device,
            snakemake.threads,
            log,
            job_provenance(snakemake, **run_ids(snakemake.params.options)),
        )
