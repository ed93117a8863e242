"""Decoding and encoding scores of one GOD subject and one model's sampled units."""

import torch

from neuralign.analyses.fmri import fit_subject, read_units
from neuralign.fitting.mappings import MappingSpec
from neuralign.io.artifacts import write_netcdf
from neuralign.io.dataset import open_dataset
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance


def main(
    dataset_path: str,
    activations_path: str,
    out_path: str,
    subject: str,
    model_id: str,
    options: dict,
    threads: int,
    log,
    provenance: dict,
) -> None:
    torch.set_num_threads(threads)
    ds = open_dataset(dataset_path)
    stimuli, units, attrs = read_units(activations_path)
    fit = fit_subject(
        ds,
        units,
        stimuli,
        rois=options["rois"],
        mapping=MappingSpec.from_options(options),
        n_bootstrap=options["n_bootstrap"],
        seed=options["bootstrap_seed"],
    )
    fit.attrs.update(
        subject=subject,
        model=model_id,
        **{key: attrs[key] for key in ("model_source", "weights_sha256", "reduction")},
    )
    write_netcdf(fit, out_path, provenance)
    for direction in ("decoding", "encoding"):
        log.info(
            "%s median r (ROI x layer):\n%s",
            direction,
            fit[f"{direction}_median"].to_pandas().round(3).to_string(),
        )


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.input.dataset,
            snakemake.input.activations,
            snakemake.output.fit,
            snakemake.params.subject,
            snakemake.wildcards.model,
            snakemake.params.options,
            snakemake.threads,
            log,
            job_provenance(snakemake),
        )
