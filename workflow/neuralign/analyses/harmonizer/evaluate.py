"""Human alignment and accuracy of a (harmonized) model.

Evaluation follows ``harmonization/evaluation/click_me.py``: saliency = max over channels of
the absolute input gradient (Xplique ``Saliency``), Spearman per image, mean, divided by the
human ceiling 0.6575315343478081.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch
from scipy.stats import spearmanr
from torch.utils.data import Dataset

from neuralign.analyses.harmonizer.loss import saliency
from neuralign.datasets import clickme_samples

HUMAN_SPEARMAN_CEILING = 0.6575315343478081


@contextmanager
def _eval_mode(model: torch.nn.Module):
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def evaluation_saliency(
    model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 256
) -> torch.Tensor:
    """Max over channels of the absolute true-class input gradient, (N, H, W), eval mode."""
    device = next(model.parameters()).device
    maps = []
    with _eval_mode(model):
        for start in range(0, len(images), batch_size):
            stop = start + batch_size
            batch = images[start:stop].to(device), labels[start:stop].to(device)
            maps.append(saliency(model, *batch)[1].abs().amax(1).cpu())
    return torch.cat(maps)


def image_spearman(
    model: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    human_maps: torch.Tensor,
) -> np.ndarray:
    """Spearman correlation of each image's evaluation saliency with its human map."""
    maps = evaluation_saliency(model, images, labels).flatten(1).double().numpy()
    human = human_maps.flatten(1).double().cpu().numpy()
    return np.array([spearmanr(a, b).statistic for a, b in zip(maps, human, strict=True)])


def human_alignment(
    model: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    human_maps: torch.Tensor,
) -> float:
    """Mean per-image Spearman correlation of saliency and human maps / the human ceiling."""
    return (
        float(np.mean(image_spearman(model, images, labels, human_maps))) / HUMAN_SPEARMAN_CEILING
    )


def alignment_summary(rho: np.ndarray) -> dict:
    """Human alignment (mean Spearman / ceiling) of per-image correlations, with its SEM."""
    rho = np.asarray(rho, dtype=float)
    if not len(rho) or not np.isfinite(rho).all():
        raise ValueError(
            f"{np.size(rho) - np.isfinite(rho).sum()} of {np.size(rho)} per-image Spearman "
            "correlations are undefined (constant saliency or human map)"
        )
    sem = rho.std(ddof=1) / np.sqrt(len(rho)) if len(rho) > 1 else float("nan")
    return {
        "human_alignment": rho.mean() / HUMAN_SPEARMAN_CEILING,
        "human_alignment_sem": sem / HUMAN_SPEARMAN_CEILING,
        "spearman": rho.mean(),
        "n_images": len(rho),
        "ceiling": HUMAN_SPEARMAN_CEILING,
    }


@torch.no_grad()
def accuracy(
    model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 256
) -> float:
    """Top-1 accuracy in eval mode."""
    device = next(model.parameters()).device
    correct = 0
    with _eval_mode(model):
        for start in range(0, len(images), batch_size):
            logits = model(images[start : start + batch_size].to(device))
            correct += (logits.argmax(1).cpu() == labels[start : start + batch_size]).sum().item()
    return correct / len(images)


def dataset_alignment(model: torch.nn.Module, dataset: Dataset, batch_size: int = 32) -> dict:
    """``alignment_summary`` of a model over every image of a dataset with human maps."""
    rho = [
        image_spearman(model, images, labels, maps)
        for images, labels, maps, _ in clickme_samples.iterate_batches(dataset, batch_size)
    ]
    return alignment_summary(np.concatenate(rho))
