"""The published files the built-in datasets are converted from, keyed by where the workflow
keeps them (``neuralign.io.resources.resource_path``)."""

from __future__ import annotations

from neuralign.datasets import cowley2023, kriegeskorte2008, majajhong2015
from neuralign.io.download import RemoteFile
from neuralign.io.resources import resource_path


def remote_files() -> dict[str, RemoteFile]:
    """Every published file the workflow can download, keyed by its resource path."""
    files = [
        kriegeskorte2008.SUPPLEMENTAL,
        kriegeskorte2008.BRAIN_RDMS,
        majajhong2015.ASSEMBLY,
        majajhong2015.STIMULUS_CSV,
        majajhong2015.STIMULUS_ZIP,
    ]
    for session in cowley2023.SESSIONS.values():
        files += [session.images, session.averaged, *([session.raw] if session.raw else [])]
    return {resource_path(remote): remote for remote in files}


def dataset_downloads(dataset: str) -> dict[str, RemoteFile]:
    """{resource path: published file} of the files built-in ``dataset`` is converted from
    (empty for datasets that need no download)."""
    if dataset in majajhong2015.DATASETS:
        files = [majajhong2015.ASSEMBLY, majajhong2015.STIMULUS_CSV, majajhong2015.STIMULUS_ZIP]
    elif dataset == "kriegeskorte2008_92":
        files = [kriegeskorte2008.SUPPLEMENTAL, kriegeskorte2008.BRAIN_RDMS]
    elif (session := cowley2023.SESSIONS.get(dataset.removeprefix("cowley2023_v4_"))) is not None:
        files = [session.images, session.responses]
    else:
        files = []
    return {resource_path(remote): remote for remote in files}
