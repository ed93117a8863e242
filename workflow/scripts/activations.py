"""Extract layer activations of one model on one dataset's stimuli (content-addressed cache)."""

from pathlib import Path

import torch

from neuralign import preprocessing
from neuralign.activations import extract_to_file, run_options
from neuralign.cache import cached, content_key
from neuralign.dataset import open_dataset
from neuralign.layers import resolve_layers
from neuralign.logs import log_to
from neuralign.models import load_model


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
) -> None:
    torch.set_num_threads(threads)
    ds = open_dataset(dataset_path)
    root = Path(dataset_path).parent
    paths = [str(root / path) for path in ds["image_path"].values]
    model = load_model(source)
    layers = resolve_layers(model.module, layer_spec, model_id)
    attrs = {
        "dataset": ds.attrs["dataset"],
        "model": model_id,
        "model_source": source,
        "weights_sha256": model.weights_sha256,
        "preprocessing": preprocessing.describe(model.data_config, options),
    }
    pca_images = image_files(options["pca_images"])
    key = content_key(
        {
            **attrs,
            "layers": layers,
            "reduction": options["reduction"],
            "stimulus_ids": ds["stimulus_id"].values.tolist(),
        },
        [*paths, *pca_images],
    )
    log.info(
        "%s: %d stimuli, layers %s, %s, cache key %s",
        source,
        len(paths),
        layers,
        attrs["preprocessing"],
        key,
    )

    def compute(path: Path) -> None:
        extract_to_file(
            model,
            paths,
            ds["stimulus_id"].values,
            layers,
            path,
            {**attrs, "cache_key": key},
            transform=preprocessing.make_transform(model.data_config, options),
            reduction=options["reduction"],
            pca_images=pca_images,
            **run_options(options),
            progress=True,
        )

    hit = cached(key, options["cache_dir"], out_path, compute)
    log.info("cache %s", "hit: copied, nothing recomputed" if hit else "miss: extracted")


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
        )
