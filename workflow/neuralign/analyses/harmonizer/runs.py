"""A harmonizer run of the workflow (config ``harmonizer.runs``): fine-tune a base model,
resumably, and save it as a checkpoint.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from neuralign.analyses.harmonizer.data import training_data
from neuralign.analyses.harmonizer.train import CHECKPOINT_NAME, train
from neuralign.io.atomic import atomic_path
from neuralign.models.loading import load_model
from neuralign.models.table import check_checkpoint_base, parse_source


def checkpoint_arch(source: str) -> str:
    """The timm architecture a harmonized copy of ``source`` is saved as."""
    check_checkpoint_base(source)
    kind, name = parse_source(source)
    if kind == "checkpoint":
        return torch.load(name, map_location="cpu", weights_only=True)["arch"]
    return name


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
