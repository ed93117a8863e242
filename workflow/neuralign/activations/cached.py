"""One model over one image set into an activations file, through the content-addressed cache:
the step the extraction rules share."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from neuralign.activations.extraction import extract_to_file, run_options
from neuralign.io.artifacts import stamped
from neuralign.io.cache import cached, content_key
from neuralign.models import preprocessing
from neuralign.models.layers import resolve_layers
from neuralign.models.loading import load_model


def extract_cached(
    source: str,
    model_id: str,
    layer_spec,
    dataset: str,
    stimulus_ids: Sequence[str],
    paths: Sequence[str],
    out_path: str | os.PathLike,
    options: dict,
    reduction: dict,
    log: logging.Logger,
    pca_images: Sequence[str] = (),
    provenance: dict | None = None,
) -> bool:
    """Extract ``layer_spec`` of ``source`` on ``paths`` into ``out_path`` unless the cache
    (``options['cache_dir']``) holds the same weights, preprocessing, layers, reduction and
    image contents; returns True on a cache hit (which keeps the provenance of the run that
    computed it). ``options`` is the config's ``activations``; ``provenance`` is stamped on a
    computed file (``neuralign.io.provenance``)."""
    model = load_model(source)
    layers = resolve_layers(model.module, layer_spec, model_id)
    attrs = {
        "dataset": dataset,
        "model": model_id,
        "model_source": source,
        "weights_sha256": model.weights_sha256,
        "preprocessing": preprocessing.describe(model.data_config, options),
    }
    description = {
        **attrs,
        "layers": layers,
        "reduction": reduction,
        "stimulus_ids": list(map(str, stimulus_ids)),
    }
    key = content_key(description, [*paths, *pca_images])
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
            stimulus_ids,
            layers,
            path,
            stamped({**attrs, "cache_key": key}, provenance),
            transform=preprocessing.make_transform(model.data_config, options),
            reduction=reduction,
            pca_images=pca_images,
            **run_options(options),
            progress=True,
        )

    hit = cached(key, options["cache_dir"], out_path, compute)
    log.info("cache %s", "hit: copied, nothing recomputed" if hit else "miss: extracted")
    return hit
