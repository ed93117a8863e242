"""Split-half (Spearman–Brown) noise ceiling of every neuroid of a dataset."""

import numpy as np
import xarray as xr

from neuralign.artifacts import write_netcdf
from neuralign.dataset import open_dataset
from neuralign.logs import log_to
from neuralign.metrics import percentile_ci, split_half_ceiling
from neuralign.provenance import job_provenance


def main(
    dataset_path: str,
    ceiling_path: str,
    n_splits: int,
    seed: int,
    n_bootstrap: int,
    log,
    provenance: dict,
) -> None:
    ds = open_dataset(dataset_path)
    result = split_half_ceiling(ds["responses"].values, n_splits, seed, n_bootstrap)
    low, high = percentile_ci(result["bootstrap"])
    median_low, median_high = percentile_ci(np.nanmedian(result["bootstrap"], axis=1))
    out = xr.Dataset(
        {
            "ceiling": ("neuroid", result["ceiling"]),
            "ceiling_ci_low": ("neuroid", low),
            "ceiling_ci_high": ("neuroid", high),
            "median": ((), float(np.nanmedian(result["ceiling"]))),
            "median_ci_low": ((), float(median_low)),
            "median_ci_high": ((), float(median_high)),
        },
        coords={"neuroid_id": ("neuroid", ds["neuroid_id"].values)},
        attrs={
            "dataset": ds.attrs["dataset"],
            "method": "split-half over repetitions, Pearson r per neuroid averaged over "
            f"{n_splits} seeded splits, Spearman-Brown corrected; 95% CIs from {n_bootstrap} "
            "bootstrap resamples of stimuli",
            "seed": seed,
        },
    )
    write_netcdf(out, ceiling_path, provenance)
    log.info("median ceiling %.3f [%.3f, %.3f]", out["median"], median_low, median_high)


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.input.dataset,
            snakemake.output.ceiling,
            snakemake.params.n_splits,
            snakemake.params.seed,
            snakemake.params.n_bootstrap,
            log,
            job_provenance(snakemake),
        )
