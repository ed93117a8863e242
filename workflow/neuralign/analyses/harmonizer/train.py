"""Training with the harmonizer loss: Adam with coupled L2 decay, seeded epochs, a
checkpoint every epoch (resumable).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import torch

from neuralign.analyses.harmonizer.loss import harmonizer_loss
from neuralign.io.artifacts import save_torch
from neuralign.models.loading import save_checkpoint

CHECKPOINT_NAME = "last.pt"
MODEL_NAME = "model.pt"
_NORM_LAYERS = (
    torch.nn.modules.batchnorm._NormBase,
    torch.nn.GroupNorm,
    torch.nn.LayerNorm,
    torch.nn.LocalResponseNorm,
)


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
    provenance: dict | None = None,
) -> list[dict]:
    """Train with the harmonizer loss (Adam, coupled L2 decay); returns per-epoch records.

    ``loader`` yields (images, labels, human_maps, has_map) batches. The global RNG is seeded
    with ``seed + epoch`` before each epoch (shuffling, dropout), so a run resumed from the
    checkpoint in ``checkpoint_dir`` (written every epoch, with the optimizer state) repeats an
    uninterrupted one. With ``arch`` (a timm name) the final model is written as
    ``checkpoint_dir/model.pt`` by ``neuralign.models.loading.save_checkpoint``, with
    ``provenance``.
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
            _save_state(path, model, optimizer, history, provenance)
    if arch and checkpoint_dir:
        save_checkpoint(model, arch, Path(checkpoint_dir) / MODEL_NAME, provenance)
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


def _save_state(path: Path, model, optimizer, history: list[dict], provenance) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "history": history,
        "provenance": dict(provenance or {}),
    }
    save_torch(state, path)
