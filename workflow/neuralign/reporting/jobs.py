"""The reporting stage's workflow jobs: each reads its inputs, builds a table or figure, writes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image

from neuralign.analyses.maps import grid_step, most_reliable_neuroid
from neuralign.io.artifacts import open_netcdf, read_table, save_figure, write_csv
from neuralign.io.dataset import open_dataset, stimulus_images
from neuralign.reporting.figures import (
    accuracy_correlations,
    accuracy_vs_predictivity,
    fmri_roi_layer,
    map_panel,
)
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


# The tables and figures of the map and fMRI analyses.


def write_table(
    *,
    table: Callable,
    out_path: str,
    log,
    provenance: dict,
    rows: str = "rows",
    **arguments,
) -> None:
    """Write the table ``table(**arguments)`` (e.g. ``neuralign.analyses.maps.maps_table``) as
    CSV and log its number of rows (``rows``: what a row is)."""
    frame = table(**arguments)
    write_csv(frame, out_path, provenance)
    log.info("wrote %s: %d rows (%s)", out_path, len(frame), rows)


def write_table_figure(
    *,
    plot: Callable,
    table_path: str,
    png_path: str,
    pdf_path: str,
    log,
    provenance: dict,
    **options,
) -> None:
    """Figure ``plot(table, **options)`` of a table, as PNG and PDF (200 dpi)."""
    figure = plot(read_table(table_path), **options)
    save_figure(figure, [png_path, pdf_path], provenance, dpi=200)
    log.info("wrote %s and %s", png_path, pdf_path)


def write_map_panel(
    *,
    dataset_path: str,
    fit_paths: list[str],
    labels: list[str],
    mapping: str,
    n_images: int,
    png_path: str,
    pdf_path: str,
    log,
    provenance: dict,
) -> None:
    """Figure: the first ``n_images`` images, the most reliable neuroid's IT maps and the
    held-out maps the models of ``fit_paths`` predict for it."""
    ds = open_dataset(dataset_path)
    fits = [open_netcdf(path) for path in fit_paths]
    neuroid = most_reliable_neuroid(fits[0])
    shown = range(min(n_images, ds.sizes["stimulus"]))
    files = stimulus_images(ds, dataset_path)
    images = [np.asarray(Image.open(files[k])) for k in shown]
    half_image = float(ds.attrs["image_size_deg"]) / 2
    y, x = ds["y"].values, ds["x"].values
    step = grid_step(y)
    predictions = {
        label: fit["predicted_maps"].sel(mapping=mapping).values[list(shown), neuroid]
        for label, fit in zip(labels, fits, strict=True)
    }
    figure = map_panel(
        images,
        ds["maps"].values[list(shown), neuroid],
        predictions,
        (-half_image, half_image, half_image, -half_image),
        (x[0] - step / 2, x[-1] + step / 2, y[-1] + step / 2, y[0] - step / 2),
        str(ds["neuroid_id"].values[neuroid]),
    )
    save_figure(figure, [png_path, pdf_path], provenance, dpi=150)
    log.info("wrote %s and %s (neuroid %s)", png_path, pdf_path, ds["neuroid_id"].values[neuroid])


def write_fmri_figures(
    *,
    summary_path: str,
    comparison_path: str,
    outputs: dict[str, tuple[str, str]],
    log,
    provenance: dict,
) -> None:
    """Figures of the fMRI experiment, ROI x layer, both models: one per direction of
    ``outputs`` (direction → (png, pdf))."""
    summary, comparison = read_table(summary_path), read_table(comparison_path)
    for direction, paths in outputs.items():
        figure = fmri_roi_layer(summary, comparison, direction)
        save_figure(figure, paths, provenance, dpi=200)
        log.info("wrote %s", paths)
