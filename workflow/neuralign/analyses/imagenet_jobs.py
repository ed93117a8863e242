"""The ImageNet accuracy stage's workflow jobs: one model's validation accuracy, and the table
of every measured model beside the model table's top-1."""

from __future__ import annotations

import pandas as pd

from neuralign.analyses.imagenet import accuracy_table, evaluate
from neuralign.io.artifacts import write_csv
from neuralign.models.loading import load_model


def write_accuracy(
    *, model: str, source: str, val_dir: str, options: dict, out_path: str, log, provenance
) -> None:
    """ImageNet-1k validation top-1 / top-5 of one model on an ImageNet-style folder."""
    loaded = load_model(source)
    summary = evaluate(
        loaded.module,
        loaded.data_config,
        val_dir,
        model_id=model,
        max_images=options["max_images"],
        seed=options["seed"],
        batch_size=options["batch_size"],
        device=options["device"],
        workers=options["workers"],
    )
    row = {
        "model": model,
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
        model,
        summary["top1"],
        summary["top1_ci_low"],
        summary["top1_ci_high"],
        summary["top5"],
        summary["n_images"],
        summary["n_classes"],
    )


def write_accuracy_table(
    *, accuracy_paths: list[str], models: list[dict], out_path: str, log, provenance: dict
) -> None:
    """Measured ImageNet top-1 of every selected model beside the model table's number."""
    table = accuracy_table(accuracy_paths, models)
    write_csv(table, out_path, provenance)
    log.info("wrote %s with %d models", out_path, len(table))
