"""Safe extraction of downloaded zip archives."""

from __future__ import annotations

import os
import re
import stat
import zipfile
from pathlib import Path

from neuralign.io.resources import DownloadError


def extract_zip(archive: str | os.PathLike, target_dir: str | os.PathLike) -> list[Path]:
    """Extract ``archive`` into ``target_dir``; return the files written, in archive order.

    Every entry is checked first: an absolute path, a ``..`` component or a symlink raises
    DownloadError before anything is extracted.
    """
    archive, target_dir = Path(archive), Path(target_dir)
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            for member in members:
                _check_member(archive, member)
            target_dir.mkdir(parents=True, exist_ok=True)
            zf.extractall(target_dir)
    except zipfile.BadZipFile as err:
        raise DownloadError(
            f"{archive}: not a valid zip archive ({err}); delete it and rerun: the workflow "
            "downloads it again"
        ) from err
    return [target_dir / m.filename for m in members if not m.is_dir()]


def _check_member(archive: Path, member: zipfile.ZipInfo) -> None:
    name = member.filename
    parts = re.split(r"[/\\]", name)
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        problem = "an absolute path"
    elif ".." in parts:
        problem = "a '..' component"
    elif stat.S_ISLNK(member.external_attr >> 16):
        problem = "a symbolic link"
    else:
        return
    raise DownloadError(
        f"{archive}: entry {name!r} is {problem}; refusing to extract this archive "
        "(nothing was extracted); check where it came from"
    )
