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

import json
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from scipy.stats import spearmanr
from torch.utils.data import ConcatDataset, DataLoader, Dataset, TensorDataset

from neuralign.datasets import clickme
from neuralign.datasets.simulated import synthetic_shortcut as ss
from neuralign.io.artifacts import save_torch
from neuralign.io.atomic import atomic_path
from neuralign.io.imagefolder import ImageFolderDataset, imagenet_wnids
from neuralign.models.loading import (
    check_checkpoint_base,
    load_model,
    parse_source,
    save_checkpoint,
)

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


# --- workflow runs ----------------------------------------------------------------------------

DATA_KINDS = ("synthetic", "clickme", "clickme+imagenet")
SYNTHETIC_IMAGES = 1000


def checkpoint_arch(source: str) -> str:
    """The timm architecture a harmonized copy of ``source`` is saved as."""
    check_checkpoint_base(source)
    kind, name = parse_source(source)
    if kind == "checkpoint":
        return torch.load(name, map_location="cpu", weights_only=True)["arch"]
    return name


def synthetic_training_data(
    n: int, *, seed: int, image_size: int = ss.SIZE, map_fraction: float = 0.5
) -> TensorDataset:
    """The synthetic shortcut task (``neuralign.datasets.simulated.synthetic_shortcut``) at
    ``image_size``."""
    images, labels, maps, has_map = ss.make_dataset(n, seed=seed, map_fraction=map_fraction).tensors
    if image_size != ss.SIZE:
        images = F.interpolate(images, size=(image_size, image_size), mode="nearest")
        maps = F.interpolate(maps[:, None], size=(image_size, image_size), mode="nearest")[:, 0]
    return TensorDataset(images, labels, maps, has_map)


def training_data(
    options: dict,
    data_config: dict,
    *,
    clickme_train: Sequence[str] = (),
    imagenet_folder: str | None = None,
) -> Dataset:
    """The training set of a run: synthetic, ClickMe, or ClickMe mixed with an ImageNet folder."""
    kind = options["data"]
    size = options.get("image_size") or data_config["input_size"][-1]
    limit = options.get("n_images")
    if kind == "synthetic":
        return synthetic_training_data(
            limit or SYNTHETIC_IMAGES, seed=options["seed"], image_size=size
        )
    if kind not in DATA_KINDS:
        raise ValueError(f"harmonizer data {kind!r} unknown; valid: {', '.join(DATA_KINDS)}")
    if not clickme_train:
        raise ValueError(
            f"harmonizer data {kind!r} needs ClickMe training shards "
            "(config 'harmonizer.clickme.train': a folder of train-<i>.tfrecords)"
        )
    mean, std = data_config["mean"], data_config["std"]
    parts = [
        clickme.ClickMeDataset(
            clickme_train, image_size=size, mean=mean, std=std, flip=True, max_images=limit
        )
    ]
    if kind == "clickme+imagenet":
        if not imagenet_folder:
            raise ValueError(
                "harmonizer data 'clickme+imagenet' needs config 'harmonizer.imagenet_train': "
                "an ImageNet-style folder <wnid>/<image>"
            )
        parts.append(
            ImageFolderDataset(
                imagenet_folder,
                data_config,
                image_size=size,
                classes=imagenet_wnids(),
                flip=True,
                max_images=limit,
            )
        )
    return ConcatDataset(parts) if len(parts) > 1 else parts[0]


def harmonize(
    options: dict,
    out_dir: str | Path,
    *,
    clickme_train: Sequence[str] = (),
    imagenet_folder: str | None = None,
    device: str = "cpu",
    log: Callable[[dict], None] = print,
    provenance: dict | None = None,
) -> list[dict]:
    """Fine-tune ``options['base']`` with the harmonizer loss; ``out_dir/model.pt`` at the end
    (with ``provenance``).

    Resumes from ``out_dir/last.pt`` when it exists (``train`` seeds every epoch, so a resumed
    run repeats an uninterrupted one). ``options``: a run of config ``harmonizer.runs``.
    """
    arch = checkpoint_arch(options["base"])
    discard_stale_state(out_dir, options)
    torch.manual_seed(options["seed"])
    loaded = load_model(options["base"])
    dataset = training_data(
        options, loaded.data_config, clickme_train=clickme_train, imagenet_folder=imagenet_folder
    )
    loader = DataLoader(
        dataset,
        batch_size=options["batch_size"],
        shuffle=True,
        num_workers=options.get("num_workers", 0),
    )
    model = loaded.module.to(device)
    return train(
        model,
        loader,
        lam=options["lambda"],
        epochs=options["epochs"],
        lr=options["lr"],
        weight_decay=options["weight_decay"],
        seed=options["seed"],
        arch=arch,
        checkpoint_dir=out_dir,
        resume=True,
        log=log,
        autocast=options.get("autocast", False),
        provenance=provenance,
    )


def run_ids(options: dict) -> dict:
    """Provenance ids of a harmonizer run: its training data (``simulated`` for the synthetic
    shortcut task) and the model it fine-tunes."""
    return {
        "dataset": options["data"],
        "model": options["base"],
        "simulated": options["data"] == "synthetic",
    }


def discard_stale_state(out_dir: str | Path, options: dict) -> bool:
    """Remove ``out_dir/last.pt`` if it was written by a run with other options.

    The options (all but ``epochs``, which a resumed run may extend) are kept beside it in
    ``run.json``. Returns whether a checkpoint was removed.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    state, record = out_dir / CHECKPOINT_NAME, out_dir / "run.json"
    current = {key: value for key, value in options.items() if key != "epochs"}
    previous = json.loads(record.read_text()) if record.is_file() else None
    stale = state.is_file() and previous != current
    if stale:
        state.unlink()
    with atomic_path(record) as temp:
        temp.write_text(json.dumps(current, indent=1, sort_keys=True))
    return stale


def dataset_alignment(model: torch.nn.Module, dataset: Dataset, batch_size: int = 32) -> dict:
    """``alignment_summary`` of a model over every image of a dataset with human maps."""
    rho = [
        image_spearman(model, images, labels, maps)
        for images, labels, maps, _ in clickme.iterate_batches(dataset, batch_size)
    ]
    return alignment_summary(np.concatenate(rho))


# --- the offline demo -------------------------------------------------------------------------

# provenance ids of the demo: SIMULATED images and "human" maps of the shortcut task
DEMO_IDS = {"dataset": "synthetic_shortcut", "model": "TinyCNN", "simulated": True}


def shortcut_demo(
    *,
    lam: float,
    n_train: int,
    n_test: int,
    epochs: int,
    lr: float,
    weight_decay: float,
    batch_size: int,
    seed: int,
    log: Callable[[dict], None] = print,
) -> pd.DataFrame:
    """Train ``TinyCNN`` on the synthetic shortcut task at λ = ``lam`` and at λ = 0.

    Both runs start from the same seeded weights and see the same batches. Returns one row per
    λ: accuracy on a shortcut-free test set and on a test set with the shortcut, and human
    alignment (mean Spearman / 0.6575) on the shortcut-free set.
    """
    train_set = ss.make_dataset(n_train, seed=seed)
    free = ss.make_dataset(n_test, seed=seed + 10_000, shortcut=False, map_fraction=1.0)
    cued = ss.make_dataset(n_test, seed=seed + 20_000, map_fraction=1.0)
    rows = []
    for value in (lam, 0.0):
        torch.manual_seed(seed)
        model = ss.TinyCNN()
        order = torch.Generator().manual_seed(seed)
        loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, generator=order)
        history = train(
            model,
            loader,
            lam=value,
            epochs=epochs,
            lr=lr,
            weight_decay=weight_decay,
            seed=seed,
            log=lambda record, value=value: log({"lambda": value, **record}),
        )
        images, labels, maps, _ = free.tensors
        rows.append(
            {
                "lambda": value,
                "shortcut_free_accuracy": accuracy(model, images, labels),
                "shortcut_accuracy": accuracy(model, *cued.tensors[:2]),
                "human_alignment": human_alignment(model, images, labels, maps),
                "train_accuracy": history[-1]["accuracy"],
                "chance": 1 / ss.NUM_CLASSES,
                "n_train": n_train,
                "n_test": n_test,
                "epochs": epochs,
                "seed": seed,
            }
        )
    return pd.DataFrame(rows)


def plot_demo(summary: pd.DataFrame):
    """Two bar panels (human alignment, shortcut-free accuracy) of λ > 0 against λ = 0."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(6.5, 3), layout="constrained")
    names = [f"λ = {value:g}" for value in summary["lambda"]]
    colours = ["#0072B2" if value > 0 else "#999999" for value in summary["lambda"]]
    panels = [
        ("human_alignment", "human alignment\n(Spearman / human ceiling)"),
        ("shortcut_free_accuracy", "accuracy, shortcut-free test set"),
    ]
    for ax, (column, label) in zip(axes, panels, strict=True):
        ax.bar(names, summary[column], color=colours)
        for x, y in enumerate(summary[column]):
            ax.annotate(f"{y:.2f}", (x, y), ha="center", va="bottom", fontsize=8)
        ax.set_ylabel(label)
        ax.spines[["top", "right"]].set_visible(False)
    axes[1].axhline(summary["chance"].iloc[0], color="black", lw=0.8, ls="--", label="chance")
    axes[1].set_ylim(0, 1)
    axes[1].legend(fontsize=8, frameon=False)
    figure.suptitle("Harmonizer on the synthetic shortcut task (SIMULATED)", fontsize=10)
    return figure
