"""The reporting stage's workflow jobs: each reads its inputs, builds a table or figure, writes."""

from __future__ import annotations

from collections.abc import Sequence

from neuralign.io.artifacts import write_csv
from neuralign.reporting.scores import scores_table


def write_scores(
    *,
    fit_paths: Sequence[str],
    models: Sequence[dict],
    dataset: str,
    out_path: str,
    log,
    provenance: dict,
    alignment_paths: Sequence[str] = (),
    imagenet_paths: Sequence[str] = (),
    top1_unavailable: str | None = None,
) -> None:
    """Collect the fits of every model on one dataset into the scores table."""
    table = scores_table(
        fit_paths, models, dataset, alignment_paths, imagenet_paths, top1_unavailable
    )
    write_csv(table, out_path, provenance)
    log.info("wrote %s with %d models", out_path, len(table))
