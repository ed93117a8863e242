"""ImageNet-1k validation accuracy of a model on a folder ``<val_dir>/<wnid>/<image>``.

Class indices are ImageNet-1k's (``imagefolder.imagenet_wnids``) even when the folder holds only
some classes, and every model sees its own evaluation preprocessing (its data config: resize by
the crop fraction, centre crop, normalise). Top-1 comes with a Wilson score interval. Every
workflow start chooses the models to evaluate here, so the evaluation alone imports torch.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from tqdm import tqdm

from neuralign.models.metadata import read_measured_top1
from neuralign.models.table import IMAGENET_CLASSES, ModelError, has_imagenet_head

if TYPE_CHECKING:
    import torch

    from neuralign.io.imagefolder import ImageFolderDataset

TOP_K = 5
MEASURED_COLUMNS = ["top1", "top1_ci_low", "top1_ci_high", "top5", "n_images"]


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (Wilson 1927), as proportions."""
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n >= 1, got {successes} of {n}")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    denominator = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return max(0.0, centre - half), min(1.0, centre + half)


def stratified_subset(samples: Sequence[tuple], max_images: int | None, seed: int) -> list[tuple]:
    """At most ``max_images`` of the (path, label) ``samples``, spread evenly over classes.

    Classes are visited round robin in a seeded random order, each class's images in a seeded
    random order, so per-class counts differ by at most one unless a class runs out. The chosen
    samples keep their folder order. ``None`` (or more than there are) keeps every sample.
    """
    if max_images is None or max_images >= len(samples):
        return list(samples)
    rng = np.random.default_rng(seed)
    labels = np.array([label for _, label in samples])
    classes = np.unique(labels)
    class_order = dict(zip(classes.tolist(), rng.permutation(len(classes)), strict=True))
    rank = np.empty(len(samples), dtype=int)
    for label in classes:
        members = np.flatnonzero(labels == label)
        rank[members] = rng.permutation(len(members))
    order = np.lexsort(([class_order[label] for label in labels.tolist()], rank))
    return [samples[i] for i in np.sort(order[:max_images])]


def predict_top5(
    module: torch.nn.Module,
    dataset: ImageFolderDataset,
    *,
    model_id: str,
    batch_size: int = 64,
    device: str = "cpu",
    workers: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(top-5 class indices (image, 5), labels (image,)) of ``module`` in eval mode."""
    import torch
    from torch.utils.data import DataLoader

    loader = DataLoader(
        dataset, batch_size=batch_size, num_workers=workers, pin_memory=device == "cuda"
    )
    module = module.eval().to(device)
    top5, labels = [], []
    with torch.inference_mode():
        for images, label, *_ in tqdm(loader, unit="batch", mininterval=30):
            logits = module(images.to(device, non_blocking=True))
            if logits.ndim != 2 or logits.shape[1] != IMAGENET_CLASSES:
                raise ModelError(
                    f"model {model_id!r} outputs shape {tuple(logits.shape)}, not "
                    f"(batch, {IMAGENET_CLASSES}) ImageNet-1k logits; its ImageNet accuracy "
                    "cannot be measured"
                )
            top5.append(logits.topk(TOP_K, dim=1).indices.cpu())
            labels.append(label)
    return torch.cat(top5).numpy(), torch.cat(labels).numpy()


def accuracy_summary(top5: np.ndarray, labels: np.ndarray, confidence: float = 0.95) -> dict:
    """n_images, n_classes, top-1 (percent) with its Wilson interval, and top-5 (percent)."""
    correct = int((top5[:, 0] == labels).sum())
    low, high = wilson_interval(correct, len(labels), confidence)
    return {
        "n_images": len(labels),
        "n_classes": len(np.unique(labels)),
        "top1": 100 * correct / len(labels),
        "top1_ci_low": 100 * low,
        "top1_ci_high": 100 * high,
        "top5": 100 * float((top5 == labels[:, None]).any(axis=1).mean()),
    }


def evaluate(
    module: torch.nn.Module,
    data_config: dict,
    val_dir: str | os.PathLike,
    *,
    model_id: str,
    max_images: int | None = None,
    seed: int = 0,
    batch_size: int = 64,
    device: str = "cpu",
    workers: int = 0,
) -> dict:
    """Accuracy summary (``accuracy_summary``) of a model on ``val_dir``, or on a
    ``stratified_subset`` of ``max_images`` of its images."""
    from neuralign.io.imagefolder import ImageFolderDataset, imagenet_wnids

    dataset = ImageFolderDataset(val_dir, data_config, classes=imagenet_wnids())
    dataset.samples = stratified_subset(dataset.samples, max_images, seed)
    top5, labels = predict_top5(
        module,
        dataset,
        model_id=model_id,
        batch_size=batch_size,
        device=device,
        workers=workers,
    )
    return accuracy_summary(top5, labels)


def models_without_top1(table: pd.DataFrame, models: Sequence[str]) -> list[str]:
    """The selected models without a top-1 in the model table (their top-1 is measured when
    ImageNet validation images are available; ``neuralign.gated.imagenet_val``). That each has
    a 1000-way ImageNet classifier is checked before (``neuralign.config.check_imagenet_top1``).
    """
    return [model for model in models if pd.isna(table.loc[model, "imagenet_top1"])]


def models_to_evaluate(
    imagenet: Mapping, table: pd.DataFrame, models: Sequence[str], measured: Sequence[str]
) -> tuple[list[str], str | None]:
    """The models whose ImageNet accuracy the stage measures, and a note naming the models it
    skips (None when it skips none).

    ``evaluate: missing`` measures the ``measured`` models (those without a top-1 in the
    table); ``evaluate: all`` every selected model that ends in a 1000-way ImageNet
    classifier: backbone-only checkpoints (the self-supervised rows) are skipped, their top-1
    being the published linear-probe number of the table.
    """
    if imagenet["evaluate"] == "missing":
        return list(measured), None
    evaluated = [model for model in models if has_imagenet_head(table.loc[model, "source"])]
    skipped = [model for model in models if model not in evaluated]
    if not skipped:
        return evaluated, None
    return evaluated, (
        f"config 'imagenet.evaluate: all' skips {len(skipped)} model(s) without a 1000-way "
        f"ImageNet classifier (backbone-only weights; the model table's top-1 is kept): "
        f"{', '.join(skipped)}"
    )


def accuracy_table(paths: Sequence[str], models: Sequence[dict]) -> pd.DataFrame:
    """Measured top-1 (tables of rule imagenet_accuracy) beside the model table's top-1.

    ``difference`` is measured minus table top-1 (percentage points); ``table_in_ci`` says
    whether the table's number lies inside the measured 95% interval.
    """
    measured = pd.DataFrame(read_measured_top1(paths).values()).set_index("model")
    rows = pd.DataFrame(models).rename(columns={"id": "model"})
    lacking = sorted(set(rows["model"]) - set(measured.index))
    if lacking:
        raise ValueError(f"no measured ImageNet accuracy for model(s) {lacking} in {list(paths)}")
    rows = rows[["model", "family", "imagenet_top1"]].astype({"imagenet_top1": float})
    picked = measured.loc[rows["model"], MEASURED_COLUMNS].reset_index(drop=True)
    rows = pd.concat([rows, picked], axis=1)
    rows["difference"] = rows["top1"] - rows["imagenet_top1"]
    inside = rows["imagenet_top1"].between(rows["top1_ci_low"], rows["top1_ci_high"])
    rows["table_in_ci"] = inside.where(rows["imagenet_top1"].notna())
    return rows
