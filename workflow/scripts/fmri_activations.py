"""Seeded samples of units of one model's layers on the GOD stimuli (all subjects' images)."""

import torch

from neuralign.activations.cached import extract_cached
from neuralign.io.dataset import open_dataset, stimulus_images
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance


def god_stimuli(dataset_paths: list[str]) -> tuple[list[str], list[str]]:
    """Stimulus ids and image files of the union of the datasets' stimuli, sorted by id (the
    subjects saw the same images; each is extracted once)."""
    images = {}
    for dataset_path in dataset_paths:
        ds = open_dataset(dataset_path)
        paths = stimulus_images(ds, dataset_path)
        for stimulus, path in zip(ds["stimulus_id"].values, paths, strict=True):
            images.setdefault(str(stimulus), path)
    ids = sorted(images)
    return ids, [images[stimulus] for stimulus in ids]


def main(
    dataset_paths: list[str],
    out_path: str,
    model_id: str,
    source: str,
    layer_spec,
    units: int,
    seed: int,
    options: dict,
    threads: int,
    log,
    provenance: dict,
) -> None:
    torch.set_num_threads(threads)
    ids, paths = god_stimuli(dataset_paths)
    reduction = {"method": "sample", "units": units, "seed": seed}
    extract_cached(
        source,
        model_id,
        layer_spec,
        "god_fmri",
        ids,
        paths,
        out_path,
        options,
        reduction,
        log,
        provenance=provenance,
    )


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            list(snakemake.input.datasets),
            snakemake.output.activations,
            snakemake.wildcards.model,
            snakemake.params.source,
            snakemake.params.layers,
            snakemake.params.units,
            snakemake.params.seed,
            snakemake.params.options,
            snakemake.threads,
            log,
            job_provenance(snakemake, dataset="god_fmri"),
        )
