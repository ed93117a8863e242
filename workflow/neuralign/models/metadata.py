"""Model metadata: the top-1 tables (ImageNet top-1 of the model table, else measured by rule
imagenet_accuracy) and the columns every per-model table starts with."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from neuralign.io.artifacts import read_table


def read_measured_top1(paths: Sequence[str]) -> dict[str, dict]:
    """{model: its row} of the tables of rule imagenet_accuracy."""
    return {row["model"]: row for path in paths for row in read_table(path).to_dict("records")}


def top1_columns(model: dict, measured: dict[str, dict], unavailable: str | None = None) -> dict:
    """The model's ImageNet top-1: the model table's, else the measured one, else (with
    ``unavailable``, the reason no measurement can be had) none; and which."""
    if not pd.isna(model["imagenet_top1"]):
        return {"imagenet_top1": model["imagenet_top1"], "imagenet_top1_source": "model table"}
    if model["id"] not in measured and unavailable:
        return {"imagenet_top1": float("nan"), "imagenet_top1_source": unavailable}
    if model["id"] not in measured:
        raise ValueError(
            f"model {model['id']!r} has no imagenet_top1 in the model table and no measured "
            "one (results/imagenet/<model>.csv of rule imagenet_accuracy)"
        )
    row = measured[model["id"]]
    return {
        "imagenet_top1": row["top1"],
        "imagenet_top1_source": f"measured on {row['n_images']} ImageNet val images",
    }


def model_columns(
    dataset: str, model: dict, measured: dict[str, dict], unavailable: str | None = None
) -> dict:
    """The first columns of a model's row in a scores table: dataset, model, family and its
    ImageNet top-1 (``top1_columns``)."""
    return {
        "dataset": dataset,
        "model": model["id"],
        "family": model["family"],
        **top1_columns(model, measured, unavailable),
    }
