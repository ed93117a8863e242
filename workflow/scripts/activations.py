"""Extract layer activations of one model on one dataset's stimuli."""

from pathlib import Path

import torch
from neuralign.activations import activations_dataset, extract
from neuralign.dataset import open_dataset, write_netcdf
from neuralign.logs import log_to
from neuralign.models import load_model


def main(
    dataset_path: str,
    out_path: str,
    source: str,
    layers: list[str],
    options: dict,
    threads: int,
    log,
) -> None:
    torch.set_num_threads(threads)
    ds = open_dataset(dataset_path)
    root = Path(dataset_path).parent
    paths = [str(root / path) for path in ds["image_path"].values]
    model = load_model(source)
    layers = layers or model.default_layers
    log.info(
        "%s: %d stimuli, layers %s, data config %s", source, len(paths), layers, model.data_config
    )
    features = extract(
        model,
        paths,
        layers,
        pool_grid=options["pool_grid"],
        batch_size=options["batch_size"],
        num_workers=options["num_workers"],
        device=options["device"],
    )
    attrs = {
        "dataset": ds.attrs["dataset"],
        "model_source": source,
        "weights_sha256": model.weights_sha256,
        "preprocessing": f"timm data config {model.data_config}",
        "reduction": f"average pooling to {options['pool_grid']}x{options['pool_grid']}, "
        "token outputs averaged over tokens",
    }
    write_netcdf(activations_dataset(features, ds["stimulus_id"].values, attrs), out_path)


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.input.dataset,
            snakemake.output.activations,
            snakemake.params.source,
            snakemake.params.layers,
            snakemake.params.options,
            snakemake.threads,
            log,
        )
