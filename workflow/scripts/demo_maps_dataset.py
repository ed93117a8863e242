"""Generate the SIMULATED demo map dataset and its images."""

from pathlib import Path

from neuralign.datasets.simulated.demo import make_demo_maps
from neuralign.io.artifacts import write_netcdf
from neuralign.io.dataset import validate_dataset
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance


def main(dataset_path: str, image_dir: str, options: dict, log, provenance: dict) -> None:
    ds = make_demo_maps(image_dir, relative_to=Path(dataset_path).parent, **options)
    write_netcdf(validate_dataset(ds), dataset_path, provenance)
    log.info(
        "wrote %s: %d images x %d virtual neurons on a %d x %d grid, %d repetitions",
        dataset_path,
        ds.sizes["stimulus"],
        ds.sizes["neuroid"],
        ds.sizes["y"],
        ds.sizes["x"],
        ds.sizes["repetition"],
    )


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.output.dataset,
            snakemake.output.images,
            snakemake.params.demo,
            log,
            job_provenance(snakemake, simulated=True),
        )
