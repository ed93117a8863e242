"""Seeded samples of units of one model's layers on the GOD stimuli (all subjects' images)."""

from pathlib import Path

import torch

from neuralign import preprocessing
from neuralign.activations import extract_to_file, run_options
from neuralign.cache import cached, content_key
from neuralign.dataset import open_dataset
from neuralign.layers import resolve_layers
from neuralign.logs import log_to
from neuralign.models import load_model


def god_stimuli(dataset_paths: list[str]) -> tuple[list[str], list[str]]:
    """Stimulus ids and image files of the union of the datasets' stimuli, sorted by id (the
    subjects saw the same images; each is extracted once)."""
    images = {}
    for dataset_path in dataset_paths:
        ds = open_dataset(dataset_path)
        root = Path(dataset_path).parent
        for stimulus, path in zip(ds["stimulus_id"].values, ds["image_path"].values, strict=True):
            images.setdefault(str(stimulus), str(root / path))
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
) -> None:
    torch.set_num_threads(threads)
    ids, paths = god_stimuli(dataset_paths)
    model = load_model(source)
    layers = resolve_layers(model.module, layer_spec, model_id)
    reduction = {"method": "sample", "units": units, "seed": seed}
    attrs = {
        "dataset": "god_fmri",
        "model": model_id,
        "model_source": source,
        "weights_sha256": model.weights_sha256,
        "preprocessing": preprocessing.describe(model.data_config, options),
    }
    key = content_key({**attrs, "layers": layers, "reduction": reduction, "ids": ids}, paths)
    log.info("%s: %d images, layers %s, cache key %s", source, len(paths), layers, key)

    def compute(path: Path) -> None:
        extract_to_file(
            model,
            paths,
            ids,
            layers,
            path,
            {**attrs, "cache_key": key},
            transform=preprocessing.make_transform(model.data_config, options),
            reduction=reduction,
            **run_options(options),
            progress=True,
        )

    hit = cached(key, options["cache_dir"], out_path, compute)
    log.info("cache %s", "hit: copied, nothing recomputed" if hit else "miss: extracted")


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
        )
