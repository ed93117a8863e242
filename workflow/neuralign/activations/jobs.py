"""The activations stage's workflow job: extract one model's layer activations on one dataset."""

from __future__ import annotations

from pathlib import Path

from neuralign.activations.cached import extract_cached
from neuralign.io.dataset import open_dataset, stimulus_images

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}


def image_files(folder: str | None) -> list[str]:
    """The images of a folder, sorted (none when no folder is configured)."""
    if not folder:
        return []
    return sorted(str(p) for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def write_activations(
    *,
    dataset_path: str,
    out_path: str,
    model: str,
    source: str,
    layer_spec,
    options: dict,
    log,
    provenance: dict,
) -> None:
    """Extract layer activations of one model on one dataset's stimuli (content-addressed
    cache); ``options`` are the config's ``activations`` (reduction, PCA images, ...)."""
    ds = open_dataset(dataset_path)
    extract_cached(
        source,
        model,
        layer_spec,
        ds.attrs["dataset"],
        ds["stimulus_id"].values,
        stimulus_images(ds, dataset_path),
        out_path,
        options,
        options["reduction"],
        log,
        pca_images=image_files(options["pca_images"]),
        provenance=provenance,
    )
