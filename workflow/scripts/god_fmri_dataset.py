"""Convert one subject of Generic Object Decoding fMRI (downloaded or SIMULATED files) to a
dataset."""

import hashlib
from pathlib import Path

from neuralign.datasets.god_fmri import SUBJECT_FILES, convert_god
from neuralign.io.artifacts import write_netcdf
from neuralign.io.dataset import validate_dataset
from neuralign.io.download import DownloadLock, sha256_file
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance


def main(
    subject_h5: str,
    subject: str,
    stimulus_dir: str,
    dataset_path: str,
    image_dir: str,
    log,
    provenance: dict,
    simulated: bool | None = None,
    lock: str | None = None,
) -> None:
    if lock:  # the published file, pinned by trust on first use
        SUBJECT_FILES[subject].verify(subject_h5, lock=DownloadLock(lock))
    root = Path(dataset_path).parent
    ds = convert_god(
        subject_h5, subject, stimulus_dir, image_dir, relative_to=root, simulated=simulated
    )
    images = hashlib.sha256()
    for path in ds["image_path"].values:
        images.update(sha256_file(root / path).encode())
    ds.attrs.update(
        source_file=str(subject_h5),
        source_sha256=sha256_file(subject_h5),
        stimulus_dir=str(stimulus_dir),
        stimulus_images_sha256=images.hexdigest(),
        stimulus_images_sha256_about="sha256 over the sha256 hex digests of the images in "
        "stimulus order",
    )
    write_netcdf(validate_dataset(ds, dataset_path), dataset_path, provenance)
    split = ds["split"].values
    log.info(
        "wrote %s%s: %d voxels, %d training and %d test images, source sha256 %s",
        dataset_path,
        " (SIMULATED)" if ds.attrs["simulated"] else "",
        ds.sizes["neuroid"],
        (split == "train").sum(),
        (split == "test").sum(),
        ds.attrs["source_sha256"],
    )


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.input.h5,
            snakemake.params.subject,
            snakemake.input.stimuli or None,  # [] when config 'fmri.stimulus_dir' is null
            snakemake.output.dataset,
            snakemake.output.images,
            log,
            job_provenance(snakemake),
            simulated=snakemake.params.simulated,
            lock=snakemake.params.lock,
        )
