"""The reporting stage's workflow jobs: each reads its inputs, builds a table or figure, writes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image

from neuralign.analyses.maps.ceilings import most_reliable_neuroid
from neuralign.analyses.maps.geometry import grid_step
from neuralign.io.artifacts import open_netcdf, read_table, save_figure, write_csv
from neuralign.io.dataset import open_dataset, stimulus_images
from neuralign.reporting.figures import fmri_roi_layer, map_panel
from neuralign.reporting.metric_panel import rank_agreement


def write_table(
    *,
    table: Callable,
    out_path: str,
    log,
    provenance: dict,
    rows: str = "rows",
    **arguments,
) -> None:
    """Write the table ``table(**arguments)`` (e.g. ``reporting.scores.scores_table``,
    ``reporting.metric_panel.metrics_table``, ``analyses.maps.maps_table``) as CSV and log its
    number of rows (``rows``: what a row is)."""
    frame = table(**arguments)
    write_csv(frame, out_path, provenance)
    log.info("wrote %s: %d rows (%s)", out_path, len(frame), rows)


def write_trends(
    *,
    trends: Callable,
    scores_path: str,
    out_path: str,
    n_bootstrap: int,
    seed: int,
    log,
    provenance: dict,
) -> None:
    """Table ``trends(scores, n_bootstrap, seed)`` of a scores table: Spearman of ImageNet top-1
    with the score below and above 70% (``reporting.figures.accuracy_correlations``, or per
    alignment metric ``reporting.metric_panel.trend_table``)."""
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
