"""Convert a dataset declared in config 'user_datasets' to the canonical format."""

from pathlib import Path

from neuralign.datasets.user import convert_user_dataset
from neuralign.io.artifacts import write_netcdf
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance


def main(name: str, spec: dict, dataset_path: str, image_dir: str, log, provenance: dict) -> None:
    ds = convert_user_dataset(name, spec, image_dir, relative_to=Path(dataset_path).parent)
    write_netcdf(ds, dataset_path, provenance)
    log.info("wrote %s: %s, %s", dataset_path, dict(ds.sizes), ds.attrs.get("response_kind"))


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.wildcards.name,
            dict(snakemake.params.spec),
            snakemake.output.dataset,
            snakemake.output.images,
            log,
            job_provenance(snakemake, dataset=snakemake.wildcards.name),
        )
