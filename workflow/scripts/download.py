"""Download one published file, verified by size and sha256 (NEURALIGN_MIRROR served first)."""

from neuralign.download import RemoteFile
from neuralign.logs import log_to


def main(remote: RemoteFile, dest: str, log) -> None:
    remote.fetch(dest)
    log.info("%s -> %s (sha256 %s verified)", remote.url, dest, remote.sha256)


if __name__ == "__main__":
    with log_to(snakemake.log[0]) as log:
        main(snakemake.params.remote, snakemake.output.file, log)
