"""The offline demo: ``TinyCNN`` on the synthetic shortcut task with and without the
harmonizer loss (SIMULATED images and "human" maps).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import torch
from torch.utils.data import DataLoader

from neuralign.analyses.harmonizer.evaluate import accuracy, human_alignment
from neuralign.analyses.harmonizer.train import train
from neuralign.datasets.simulated import synthetic_shortcut as ss

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
