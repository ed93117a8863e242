"""The neural harmonizer loss (Fel, Linsley et al. 2022): align a model's saliency with human maps.

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
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

LABEL_SMOOTHING = 0.1
PYRAMID_LEVELS = 5


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
