"""The neural harmonizer (Fel, Linsley et al. 2022): align a model's saliency with human maps.

Loss = label-smoothed cross-entropy + λ · pyramidal MSE between the model's input-gradient
saliency and a human feature-importance map (ClickMe), as in the published TensorFlow
implementation (serre-lab/Harmonization, ``harmonization/training/loss.py`` and
``pyramid.py``), which was checked for these details:

- saliency: gradient of the true-class logit w.r.t. the input, *signed* (no abs), averaged over
  colour channels, taken from the same forward pass as the cross-entropy and differentiated
  again (double backprop);
- standardise-cut: per image, subtract the spatial mean, divide by (population std + 1e-5),
  then ReLU; applied to both maps;
- rescale: human map ← human / (max human + 1e-6) · (max saliency + 1e-6), maxima per image
  after the cut, the saliency maximum detached (stop-gradient);
- pyramid: 5×5 binomial kernel ([1,4,6,4,1]⊗[1,4,6,4,1]/256), stride 2, TensorFlow "SAME"
  zero padding; the MSE is averaged over 5 levels, level 0 being the map itself;
- MSE per level = mean over the *whole batch* of squared error × has-map token, so images
  without a map add zeros (and the term shrinks with the fraction of mapped images);
- cross-entropy: label smoothing 0.1, mean over the batch; weight decay (L2, coupled) on all
  variables except normalisation layers (here: also biases, see ``parameter_groups``).

Evaluation follows ``harmonization/evaluation/click_me.py``: saliency = max over channels of
the absolute input gradient (Xplique ``Saliency``), Spearman per image, mean, divided by the
human ceiling 0.6575315343478081.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import spearmanr

from neuralign.models import save_checkpoint

HUMAN_SPEARMAN_CEILING = 0.6575315343478081
LABEL_SMOOTHING = 0.1
PYRAMID_LEVELS = 5
CHECKPOINT_NAME = "last.pt"
MODEL_NAME = "model.pt"
_NORM_LAYERS = (
    torch.nn.modules.batchnorm._NormBase,
    torch.nn.GroupNorm,
    torch.nn.LayerNorm,
    torch.nn.LocalResponseNorm,
)


class HarmonizerLoss(NamedTuple):
    """The total loss and its two terms (alignment before weighting by λ)."""

    total: torch.Tensor
    cross_entropy: torch.Tensor
    alignment: torch.Tensor
    logits: torch.Tensor


def binomial_kernel(dtype=torch.float32, device=None) -> torch.Tensor:
    """The 5×5 binomial kernel [1,4,6,4,1]⊗[1,4,6,4,1]/256, shaped (1, 1, 5, 5)."""
    row = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0], dtype=dtype, device=device)
    return (torch.outer(row, row) / 256).reshape(1, 1, 5, 5)


def same_padding(size: int, kernel: int = 5, stride: int = 2) -> tuple[int, int]:
    """TensorFlow "SAME" padding (before, after) of one axis."""
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def downsample(x: torch.Tensor) -> torch.Tensor:
    """Blur (N, C, H, W) with the binomial kernel, stride 2, "SAME" zero padding."""
    top, bottom = same_padding(x.shape[-2])
    left, right = same_padding(x.shape[-1])
    kernel = binomial_kernel(x.dtype, x.device).expand(x.shape[1], 1, 5, 5)
    return F.conv2d(F.pad(x, (left, right, top, bottom)), kernel, stride=2, groups=x.shape[1])


def gaussian_pyramid(x: torch.Tensor, levels: int = PYRAMID_LEVELS) -> list[torch.Tensor]:
    """Levels of the Gaussian pyramid of (N, C, H, W) maps; level 0 is ``x``."""
    pyramid = [x]
    for _ in range(levels - 1):
        pyramid.append(downsample(pyramid[-1]))
    return pyramid


def standardize_cut(maps: torch.Tensor, epsilon: float = 1e-5) -> torch.Tensor:
    """Z-score each (…, H, W) map (population std + ``epsilon``), then ReLU."""
    mean = maps.mean((-2, -1), keepdim=True)
    std = maps.std((-2, -1), keepdim=True, correction=0)
    return torch.relu((maps - mean) / (std + epsilon))


def saliency(
    model: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    create_graph: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits and gradient of the true-class logit w.r.t. the input, (N, C, H, W)."""
    images = images.detach().requires_grad_(True)
    logits = model(images)
    score = logits.gather(1, labels[:, None]).sum()
    (gradient,) = torch.autograd.grad(score, images, create_graph=create_graph)
    return logits, gradient


def alignment_loss(
    saliency_maps: torch.Tensor,
    human_maps: torch.Tensor,
    has_map: torch.Tensor,
    levels: int = PYRAMID_LEVELS,
) -> torch.Tensor:
    """Pyramidal MSE of standardised-cut (N, H, W) maps; images without a map add zeros."""
    human_maps = torch.where(has_map[:, None, None], human_maps, 0.0)
    model_maps = standardize_cut(saliency_maps)
    human_maps = standardize_cut(human_maps)
    model_max = model_maps.amax((-2, -1), keepdim=True).detach() + 1e-6
    human_maps = human_maps / (human_maps.amax((-2, -1), keepdim=True) + 1e-6) * model_max
    token = has_map.to(model_maps.dtype)[:, None, None, None]
    model_levels = gaussian_pyramid(model_maps[:, None], levels)
    human_levels = gaussian_pyramid(human_maps[:, None], levels)
    pairs = zip(model_levels, human_levels, strict=True)
    return torch.stack([((a - b).square() * token).mean() for a, b in pairs]).mean()


def harmonizer_loss(
    model: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    human_maps: torch.Tensor,
    has_map: torch.Tensor,
    lam: float,
    *,
    levels: int = PYRAMID_LEVELS,
    autocast: bool = False,
) -> HarmonizerLoss:
    """Cross-entropy (label smoothing 0.1) + ``lam`` · alignment, differentiable w.r.t. weights.

    ``human_maps`` is (N, H, W); ``has_map`` a boolean (N,) mask. The saliency is only computed
    (with double backprop) when ``lam`` > 0 and some image carries a map.
    """
    align = lam > 0 and bool(has_map.any())
    with torch.autocast(images.device.type, enabled=autocast):
        if align:
            logits, gradient = saliency(model, images, labels, create_graph=True)
        else:
            logits = model(images)
    cross_entropy = F.cross_entropy(
        logits.to(images.dtype), labels, label_smoothing=LABEL_SMOOTHING
    )
    if align:
        gradient = gradient.to(images.dtype).mean(1)
        alignment = alignment_loss(gradient, human_maps.to(images.dtype), has_map, levels)
    else:
        alignment = cross_entropy.new_zeros(())
    return HarmonizerLoss(cross_entropy + lam * alignment, cross_entropy, alignment, logits)


def parameter_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Optimizer groups: decay on weights, none on normalisation layers, biases, embeddings."""
    skip = set(getattr(model, "no_weight_decay", set)())
    decay, no_decay = [], []
    for module_name, module in model.named_modules():
        for name, param in module.named_parameters(recurse=False):
            full = f"{module_name}.{name}" if module_name else name
            exempt = isinstance(module, _NORM_LAYERS) or name == "bias" or full in skip
            (no_decay if exempt else decay).append(param)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def train(
    model: torch.nn.Module,
    loader: Iterable,
    *,
    lam: float,
    epochs: int,
    lr: float,
    weight_decay: float,
    seed: int,
    arch: str | None = None,
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    log: Callable[[dict], None] = print,
    autocast: bool = False,
) -> list[dict]:
    """Train with the harmonizer loss (Adam, coupled L2 decay); returns per-epoch records.

    ``loader`` yields (images, labels, human_maps, has_map) batches. The global RNG is seeded
    with ``seed + epoch`` before each epoch (shuffling, dropout), so a run resumed from the
    checkpoint in ``checkpoint_dir`` (written every epoch, with the optimizer state) repeats an
    uninterrupted one. With ``arch`` (a timm name) the final model is written as
    ``checkpoint_dir/model.pt`` by ``neuralign.models.save_checkpoint``.
    """
    device = next(model.parameters()).device
    optimizer = torch.optim.Adam(parameter_groups(model, weight_decay), lr=lr)
    history: list[dict] = []
    path = Path(checkpoint_dir) / CHECKPOINT_NAME if checkpoint_dir else None
    if resume and path and path.is_file():
        state = torch.load(path, map_location=device, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        history = state["history"]
    for epoch in range(len(history), epochs):
        torch.manual_seed(seed + epoch)
        record = {"epoch": epoch, **_train_epoch(model, loader, optimizer, lam, device, autocast)}
        history.append(record)
        log(record)
        if path:
            _save_state(path, model, optimizer, history)
    if arch and checkpoint_dir:
        save_checkpoint(model, arch, Path(checkpoint_dir) / MODEL_NAME)
    return history


def _train_epoch(model, loader, optimizer, lam, device, autocast) -> dict:
    model.train()
    sums = {"loss": 0.0, "cross_entropy": 0.0, "alignment": 0.0, "accuracy": 0.0}
    count = 0
    for batch in loader:
        images, labels, human_maps, has_map = (t.to(device) for t in batch)
        loss = harmonizer_loss(model, images, labels, human_maps, has_map, lam, autocast=autocast)
        optimizer.zero_grad(set_to_none=True)
        loss.total.backward()
        optimizer.step()
        n = len(labels)
        count += n
        sums["loss"] += loss.total.item() * n
        sums["cross_entropy"] += loss.cross_entropy.item() * n
        sums["alignment"] += loss.alignment.item() * n
        sums["accuracy"] += (loss.logits.argmax(1) == labels).sum().item()
    return {key: value / count for key, value in sums.items()}


def _save_state(path: Path, model, optimizer, history: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "history": history}
    partial = path.with_suffix(".tmp")
    torch.save(state, partial)
    os.replace(partial, path)


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


def human_alignment(
    model: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    human_maps: torch.Tensor,
) -> float:
    """Mean per-image Spearman correlation of saliency and human maps / the human ceiling."""
    maps = evaluation_saliency(model, images, labels).flatten(1).double().numpy()
    human = human_maps.flatten(1).double().cpu().numpy()
    rho = [spearmanr(a, b).statistic for a, b in zip(maps, human, strict=True)]
    return float(np.mean(rho) / HUMAN_SPEARMAN_CEILING)


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
