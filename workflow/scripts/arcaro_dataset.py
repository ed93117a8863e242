"""Convert one monkey of the published Arcaro 2020 archive (downloaded, or the user's copy)."""

import tempfile
import zipfile
from pathlib import Path

from neuralign.datasets.arcaro2020 import ARCHIVE, ARCHIVE_URL, convert_arcaro, get_monkey
from neuralign.io.artifacts import write_netcdf
from neuralign.io.dataset import DatasetError, validate_dataset
from neuralign.io.download import DownloadLock, sha256_file
from neuralign.io.logs import log_to
from neuralign.io.provenance import job_provenance


def main(
    archive: str,
    monkey: str,
    dataset_path: str,
    image_dir: str,
    window,
    lock: str,
    log,
    provenance: dict,
) -> None:
    info = get_monkey(monkey)
    ARCHIVE.verify(archive, lock=DownloadLock(lock))  # trust on first use
    checksum = sha256_file(archive)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            with zipfile.ZipFile(archive) as handle:
                members = [
                    name
                    for name in handle.namelist()
                    if name.endswith(info.mat_file) or f"{info.image_folder}/" in name
                ]
                handle.extractall(tmp, members)
        except zipfile.BadZipFile as err:
            raise DatasetError(
                f"{archive}: is not a zip archive ({err}); delete it and rerun to download "
                f"{ARCHIVE_URL} again (or point maps.arcaro2020_archive at a copy of it)"
            ) from err
        mat = [path for path in Path(tmp).rglob(Path(info.mat_file).name)]
        if not mat:
            raise DatasetError(f"{archive}: holds no {info.mat_file}; is it {ARCHIVE_URL}?")
        base = Path(str(mat[0])[: -len(info.mat_file)])
        ds = convert_arcaro(
            mat[0],
            monkey,
            base / info.image_folder,
            image_dir,
            window=tuple(window) if window else None,
            relative_to=Path(dataset_path).parent,
        )
    ds.attrs.update(source_archive=Path(archive).name, source_archive_sha256=checksum)
    write_netcdf(validate_dataset(ds), dataset_path, provenance)
    log.info("wrote %s from %s (sha256 %s)", dataset_path, archive, checksum)


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(
            snakemake.input.archive,
            snakemake.params.monkey,
            snakemake.output.dataset,
            snakemake.output.images,
            snakemake.params.window,
            snakemake.params.lock,
            log,
            job_provenance(snakemake),
        )
