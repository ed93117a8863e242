"""Convert one Cowley et al. (2023) V4 session to the canonical dataset format."""

from pathlib import Path

from neuralign.datasets.cowley2023 import convert_cowley
from neuralign.io.artifacts import write_netcdf
from neuralign.io.dataset import validate_dataset
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance


def main(
    session: str,
    image_zip: str,
    responses: str,
    raw: bool,
    dataset_path: str,
    image_dir: str,
    log,
    provenance: dict,
) -> None:
    ds = convert_cowley(
        session, image_zip, responses, image_dir, raw=raw, relative_to=Path(dataset_path).parent
    )
    write_netcdf(validate_dataset(ds, dataset_path), dataset_path, provenance)
    log.info("wrote %s: %s, %s", dataset_path, dict(ds.sizes), ds.attrs["response_kind"])


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.wildcards.session,
            snakemake.input.images,
            snakemake.input.responses,
            snakemake.params.raw,
            snakemake.output.dataset,
            snakemake.output.images,
            log,
            job_provenance(snakemake),
        )
