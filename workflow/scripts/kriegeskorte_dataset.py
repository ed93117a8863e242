"""Convert the Kriegeskorte et al. (2008) 92-image set to an RDM-only dataset."""

from pathlib import Path

from neuralign.datasets.kriegeskorte2008 import convert_kriegeskorte
from neuralign.io.artifacts import write_netcdf
from neuralign.io.dataset import validate_dataset
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance


def main(
    supplemental: str, brain_rdms: str, dataset_path: str, image_dir: str, log, provenance: dict
) -> None:
    ds = convert_kriegeskorte(
        supplemental, brain_rdms, image_dir, relative_to=Path(dataset_path).parent
    )
    write_netcdf(validate_dataset(ds, dataset_path), dataset_path, provenance)
    log.info("wrote %s: subjects %s", dataset_path, list(ds["subject"].values))


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.input.supplemental,
            snakemake.input.brain_rdms,
            snakemake.output.dataset,
            snakemake.output.images,
            log,
            job_provenance(snakemake),
        )
