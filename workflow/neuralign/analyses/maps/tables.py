"""The map scores table: one row per model, mapping and array."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from neuralign.io.artifacts import open_netcdf
from neuralign.models.metadata import model_columns, read_measured_top1


def maps_table(
    fit_paths: Sequence[str],
    models: Sequence[dict],
    dataset: str,
    imagenet_paths: Sequence[str] = (),
    top1_unavailable: str | None = None,
):
    """One row per model, mapping and array: family, ImageNet top-1 (the model table's, else
    measured: ``imagenet_paths``, else empty with ``top1_unavailable`` as its source;
    ``neuralign.models.metadata.model_columns``), the most chosen layer, raw map
    predictivity with its CI, the two ceilings and the attribution Spearman rhos."""
    if len(fit_paths) != len(models):
        raise ValueError(f"{len(fit_paths)} map fits for {len(models)} models")
    measured = read_measured_top1(imagenet_paths)
    rows = []
    for path, model in zip(fit_paths, models, strict=True):
        fit = open_netcdf(path)
        for mapping in fit["mapping"].values:
            chosen = fit["chosen_layer"].sel(mapping=mapping).values.tolist()
            layer = max(set(chosen), key=chosen.count)
            for array in fit["array"].values:
                pick = {"mapping": mapping, "array": array}
                row = {
                    **model_columns(dataset, model, measured, top1_unavailable),
                    "mapping": mapping,
                    "array": array,
                    "layer": layer,
                    "layer_share": chosen.count(layer) / len(chosen),
                    **{
                        name: float(fit[name].sel(pick))
                        for name in ("raw", "raw_ci_low", "raw_ci_high")
                    },
                    "neighbour_ceiling": float(fit["neighbour_ceiling"].sel(array=array)),
                }
                if "split_half_ceiling" in fit:
                    row["split_half_ceiling"] = float(fit["split_half_ceiling"].sel(array=array))
                if "attribution_summary" in fit:
                    for method in fit["method"].values:
                        for res in fit["resolution"].values:
                            row[f"{method}_spearman_{res}"] = float(
                                fit["attribution_summary"].sel(
                                    {"method": method, "resolution": res, "array": array}
                                )
                            )
                rows.append(row)
    return pd.DataFrame(rows)
