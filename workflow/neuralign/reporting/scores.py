"""The per-dataset scores table: one row per model, read off the fits artifacts."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import xarray as xr

from neuralign.fitting.chosen import most_chosen_layer
from neuralign.io.artifacts import open_netcdf, read_table
from neuralign.models.metadata import model_columns, read_measured_top1

SUMMARY_COLUMNS = (
    "raw",
    "raw_sem",
    "raw_ci_low",
    "raw_ci_high",
    "ceiling",
    "ceiled",
    "ceiled_ci_low",
    "ceiled_ci_high",
)
OPTIONAL_COLUMNS = ("raw_ci_stimuli_low", "raw_ci_stimuli_high")  # not for RSA fits


def score_row(fit: xr.Dataset) -> dict:
    """Summary numbers of one fits artifact, with its most often chosen layer."""
    layer, count = most_chosen_layer(fit)
    return {
        "layer": layer,
        "layer_share": count / fit.sizes["split"],
        **{column: float(fit[column]) for column in SUMMARY_COLUMNS},
        **{column: float(fit[column]) for column in OPTIONAL_COLUMNS if column in fit},
        "ceiling_formula": fit.attrs["ceiling_formula"],
        # which ceiling: split-half, given with the dataset, not available (raw r only), or
        # the RSA noise ceiling
        "ceiling_source": fit.attrs.get("ceiling_source") or fit.attrs.get("ceiling_method", ""),
    }


def read_alignment(paths: Sequence[str]) -> dict[str, float]:
    """{model: human alignment} from the tables of rule human_alignment."""
    alignment = {}
    for path in paths:
        table = read_table(path)
        missing = {"model", "human_alignment"} - set(table.columns)
        if missing:
            raise ValueError(f"{path}: no column(s) {sorted(missing)}; rerun rule human_alignment")
        alignment.update(zip(table["model"], table["human_alignment"], strict=True))
    return alignment


def scores_table(
    fit_paths: Sequence[str],
    models: Sequence[dict],
    dataset: str,
    alignment_paths: Sequence[str] = (),
    imagenet_paths: Sequence[str] = (),
    top1_unavailable: str | None = None,
) -> pd.DataFrame:
    """Join model metadata (id, imagenet_top1, family, notes) with their fit summaries.

    With ``alignment_paths`` (tables of rule human_alignment), a ``human_alignment`` column
    (ClickMe mean Spearman / human ceiling) is added; every model must have a value. Models
    without a top-1 in the table take theirs from ``imagenet_paths`` (tables of rule
    imagenet_accuracy), or, when the ImageNet stage is left out, an empty top-1 with
    ``top1_unavailable`` as its source; ``imagenet_top1_source`` says where each number comes
    from.
    """
    if len(fit_paths) != len(models):
        raise ValueError(f"{len(fit_paths)} fits for {len(models)} models")
    alignment = read_alignment(alignment_paths)
    measured = read_measured_top1(imagenet_paths)
    lacking = [model["id"] for model in models if alignment_paths and model["id"] not in alignment]
    if lacking:
        raise ValueError(f"no human alignment for model(s) {lacking} in {list(alignment_paths)}")
    rows = []
    for path, model in zip(fit_paths, models, strict=True):
        rows.append(
            {
                **model_columns(dataset, model, measured, top1_unavailable),
                **score_row(open_netcdf(path)),
                **({"human_alignment": alignment[model["id"]]} if alignment_paths else {}),
            }
        )
    return pd.DataFrame(rows)
