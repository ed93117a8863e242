"""The reporting stage's workflow jobs: each reads its inputs, builds a table or figure, writes."""

from __future__ import annotations

from collections.abc import Sequence

from neuralign.io.artifacts import read_table, save_figure, write_csv
from neuralign.reporting.figures import accuracy_correlations, accuracy_vs_predictivity
from neuralign.reporting.metric_panel import (
    metrics_table,
    panel_figure,
    rank_agreement,
    trend_table,
)
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
    panel: bool = False,
) -> None:
    """Collect the fits of every model on one dataset into the scores table, or with ``panel``
    its alignment artifacts into the metric panel's table (one row per model × metric; no
    ``alignment_paths`` or ``top1_unavailable`` then)."""
    if panel:
        table = metrics_table(fit_paths, models, dataset, imagenet_paths)
        summary = f": {len(models)} models × {table['metric'].nunique()} metrics"
    else:
        table = scores_table(
            fit_paths, models, dataset, alignment_paths, imagenet_paths, top1_unavailable
        )
        summary = f" with {len(table)} models"
    write_csv(table, out_path, provenance)
    log.info("wrote %s%s", out_path, summary)


def write_trends(
    *,
    scores_path: str,
    out_path: str,
    n_bootstrap: int,
    seed: int,
    log,
    provenance: dict,
    panel: bool = False,
) -> None:
    """Table: Spearman correlation of ImageNet top-1 with predictivity below and above 70%, and
    within each trained family; with ``panel``, per alignment metric of the panel's table."""
    trends = trend_table if panel else accuracy_correlations
    table = trends(read_table(scores_path), n_bootstrap, seed)
    write_csv(table, out_path, provenance)
    log.info("\n%s", table.to_string(index=False))


def write_metric_agreement(*, scores_path: str, out_path: str, log, provenance: dict) -> None:
    """Table: Kendall's τ between the model rankings of every two alignment metrics."""
    table = rank_agreement(read_table(scores_path)).reset_index()
    write_csv(table, out_path, provenance)
    log.info("\n%s", table.round(2).to_string(index=False))


def write_figure(
    *,
    scores_path: str,
    png_path: str,
    pdf_path: str,
    title: str,
    log,
    provenance: dict,
    panel: bool = False,
) -> None:
    """Figure: ImageNet top-1 against ceiled neural predictivity, one point per model; with
    ``panel``, against every alignment metric of the panel's table, one panel per metric."""
    draw = panel_figure if panel else accuracy_vs_predictivity
    figure = draw(read_table(scores_path), title)
    save_figure(figure, [png_path, pdf_path], provenance, dpi=200)
    log.info("wrote %s and %s", png_path, pdf_path)
