"""The harmonizer stage's workflow jobs: a harmonizer run, the offline demo, and the human
alignment of a model on the ClickMe validation maps."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from neuralign.analyses.harmonizer.demo import shortcut_demo
from neuralign.analyses.harmonizer.evaluate import dataset_alignment
from neuralign.analyses.harmonizer.plots import plot_demo
from neuralign.analyses.harmonizer.runs import harmonize
from neuralign.datasets.clickme_samples import ClickMeDataset
from neuralign.io.artifacts import save_figure, write_csv
from neuralign.models.loading import load_model


def write_harmonized(
    *,
    options: dict,
    clickme_train: list[str],
    imagenet_folder: str | None,
    model_path: str,
    history_path: str,
    device: str,
    log,
    provenance: dict,
) -> None:
    """Fine-tune a model with the neural harmonizer loss; write its checkpoint (``model_path``)
    and training log."""
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


def write_demo(
    *, options: dict, summary_path: str, figure_paths: list[str], log, provenance: dict
) -> None:
    """The offline harmonizer demo: the synthetic shortcut task trained at λ > 0 and at λ = 0;
    its summary table and figure."""
    summary = shortcut_demo(
        lam=options["lambda"],
        n_train=options["n_train"],
        n_test=options["n_test"],
        epochs=options["epochs"],
        lr=options["lr"],
        weight_decay=options["weight_decay"],
        batch_size=options["batch_size"],
        seed=options["seed"],
        log=lambda record: log.info("%s", record),
    )
    write_csv(summary, summary_path, provenance)
    log.info("summary\n%s", summary.to_string())
    save_figure(plot_demo(summary), figure_paths, provenance, dpi=150)


def write_human_alignment(
    *,
    model: str,
    source: str,
    shards: list[str],
    options: dict,
    out_path: str,
    device: str,
    log,
    provenance: dict,
) -> None:
    """Human alignment of one model on the ClickMe validation maps (Spearman / human
    ceiling)."""
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
    row = {"model": model, "source": source, **summary}
    write_csv(pd.DataFrame([row]), out_path, provenance)
    log.info(
        "%s: human alignment %.3f on %d images",
        model,
        summary["human_alignment"],
        summary["n_images"],
    )
