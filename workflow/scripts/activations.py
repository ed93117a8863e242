"""Extract layer activations of one model on one dataset's stimuli (content-addressed cache)."""

from pathlib import Path

import torch

from neuralign.activations.cached import extract_cached
from neuralign.io.dataset import open_dataset, stimulus_images
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance


def image_files(folder: str | None) -> list[str]:
    """The images of a folder, sorted (none when no folder is configured)."""
    if not folder:
        return []
    suffixes = {".png", ".jpg", ".jpeg"}
    return sorted(str(p) for p in Path(folder).iterdir() if p.suffix.lower() in suffixes)


def main(
    dataset_path: str,
    out_path: str,
    model_id: str,
    source: str,
    layer_spec,
    options: dict,
    threads: int,
    log,
    provenance: dict,
) -> None:
    torch.set_num_threads(threads)
    ds = open_dataset(dataset_path)
    extract_cached(
        source,
        model_id,
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


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.input.dataset,
            snakemake.output.activations,
            snakemake.wildcards.model,
            snakemake.params.source,
            snakemake.params.layers,
            snakemake.params.options,
            snakemake.threads,
            log,
            job_provenance(snakemake),
        )
