"""Human alignment of one model on the ClickMe validation maps (Spearman / human ceiling)."""

import pandas as pd
import torch

from neuralign.analyses.harmonizer import dataset_alignment
from neuralign.datasets.clickme import ClickMeDataset
from neuralign.io.artifacts import write_csv
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance
from neuralign.models.loading import load_model


def main(
    model_id: str,
    source: str,
    shards: list[str],
    options: dict,
    out_path: str,
    device: str,
    threads: int,
    log,
    provenance: dict,
) -> None:
    torch.set_num_threads(threads)
    loaded = load_model(source)
    config = loaded.data_config
    data = ClickMeDataset(
        shards,
        image_size=config["input_size"][-1],
        mean=config["mean"],
        std=config["std"],
        max_images=options["max_images"],
    )
    summary = dataset_alignment(loaded.module.to(device), data, options["batch_size"])
    row = {"model": model_id, "source": source, **summary}
    write_csv(pd.DataFrame([row]), out_path, provenance)
    log.info(
        "%s: human alignment %.3f on %d images",
        model_id,
        summary["human_alignment"],
        summary["n_images"],
    )


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.wildcards.model,
            snakemake.params.source,
            list(snakemake.input.shards),
            snakemake.params.options,
            snakemake.output.alignment,
            snakemake.params.device,
            snakemake.threads,
            log,
            job_provenance(snakemake, dataset="clickme_val"),
        )
