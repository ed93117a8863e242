"""Download one published file, verified by its published checksums or by the lock file (trust
on first use); NEURALIGN_MIRROR is served first."""

from neuralign.io.download import DownloadLock
from neuralign.io.logs import log_to


def main(remote, dest: str, lock: str, log) -> None:
    remote.fetch(dest, lock=DownloadLock(lock))
    log.info("%s -> %s (verified; lock file %s)", remote.url, dest, lock)


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(snakemake.params.remote, snakemake.output.file, snakemake.params.lock, log)
