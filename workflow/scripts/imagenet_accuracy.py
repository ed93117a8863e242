"""ImageNet-1k validation top-1 / top-5 of one model on an ImageNet-style folder."""

import pandas as pd
import torch

from neuralign.analyses.imagenet import evaluate
from neuralign.io.artifacts import write_csv
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance
from neuralign.models.loading import load_model


def main(
    model_id: str,
    source: str,
    val_dir: str,
    options: dict,
    out_path: str,
    threads: int,
    log,
    provenance: dict,
) -> None:
    torch.set_num_threads(threads)
    loaded = load_model(source)
    summary = evaluate(
        loaded.module,
        loaded.data_config,
        val_dir,
        model_id=model_id,
        max_images=options["max_images"],
        seed=options["seed"],
        batch_size=options["batch_size"],
        device=options["device"],
        workers=options["workers"],
    )
    row = {
        "model": model_id,
        "source": source,
        **summary,
        "weights_sha256": loaded.weights_sha256,
        "val_dir": val_dir,
        "max_images": options["max_images"],
        "seed": options["seed"],
    }
    write_csv(pd.DataFrame([row]), out_path, provenance)
    log.info(
        "%s: top-1 %.2f%% (95%% CI %.2f-%.2f), top-5 %.2f%% on %d images of %d classes",
        model_id,
        summary["top1"],
        summary["top1_ci_low"],
        summary["top1_ci_high"],
        summary["top5"],
        summary["n_images"],
        summary["n_classes"],
    )


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.wildcards.model,
            snakemake.params.source,
            snakemake.params.val_dir,
            snakemake.params.options,
            snakemake.output.accuracy,
            snakemake.threads,
            log,
            job_provenance(snakemake, dataset="imagenet_val"),
        )
