"""Convert Brain-Score's public MajajHong2015 assembly (one region) to the canonical format."""

from pathlib import Path

from neuralign.datasets.majajhong2015 import convert_majajhong2015
from neuralign.io.artifacts import write_netcdf
from neuralign.io.dataset import validate_dataset
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance


def main(
    assembly: str,
    stimulus_csv: str,
    stimulus_zip: str,
    region: str,
    dataset_path: str,
    image_dir: str,
    log,
    provenance: dict,
) -> None:
    ds = convert_majajhong2015(
        assembly,
        stimulus_csv,
        stimulus_zip,
        image_dir,
        region,
        relative_to=Path(dataset_path).parent,
    )
    write_netcdf(validate_dataset(ds, dataset_path), dataset_path, provenance)
    log.info("wrote %s: %s", dataset_path, dict(ds.sizes))


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.input.assembly,
            snakemake.input.stimulus_csv,
            snakemake.input.stimulus_zip,
            snakemake.params.region,
            snakemake.output.dataset,
            snakemake.output.images,
            log,
            job_provenance(snakemake),
        )
