"""Atomic, unique file writes: no reader ever sees a partial file.

Every artifact is written to a temporary file in its own folder, named
``.<name>.<host>.<pid>.<random>.tmp`` (unique per writer, so an orphaned job cannot collide
with the rerun that follows it), flushed to disk (``fsync``) and renamed over the target
(``os.replace``, atomic within a file system). A writer that fails removes its temporary file;
one that is killed cannot, so every write first removes the temporaries of the same target
whose writer is gone: written on this host by a process that no longer runs. A live writer's
temporary file, or one written on another host (whose processes cannot be checked from here),
is never removed.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SUFFIX = ".tmp"


def _host() -> str:
    return socket.gethostname() or "localhost"


def temp_path(path: str | os.PathLike) -> Path:
    """A fresh temporary name for ``path``, in its folder."""
    path = Path(path)
    return path.with_name(f".{path.name}.{_host()}.{os.getpid()}.{secrets.token_hex(4)}{SUFFIX}")


def _writer(temp: Path, target: Path) -> tuple[str, int] | None:
    """(host, pid) of the writer of ``temp``, if it is a temporary file of ``target``."""
    prefix = f".{target.name}."
    if not (temp.name.startswith(prefix) and temp.name.endswith(SUFFIX)):
        return None
    parts = temp.name[len(prefix) : -len(SUFFIX)].rsplit(".", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1])


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (a zombie, killed but not reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def remove_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files of ``path`` left by writers that are gone (same host, process
    not running); the paths removed."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    host, removed = _host(), []
    for temp in path.parent.glob(f".{path.name}.*{SUFFIX}"):
        writer = _writer(temp, path)
        if writer and writer[0] == host and not process_alive(writer[1]):
            temp.unlink(missing_ok=True)
            removed.append(temp)
    return removed


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class AtomicFile:
    """The temporary file of one write of ``path``: write to ``temp``, then ``commit`` (fsync,
    rename over ``path``) or ``discard``. Creating one removes stale temporaries of ``path``."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(self.path)
        self.temp = temp_path(self.path)

    def commit(self) -> Path:
        _fsync(self.temp)
        os.replace(self.temp, self.path)
        try:
            _fsync(self.path.parent)  # the rename itself
        except OSError:
            pass  # file systems that cannot sync a folder still renamed atomically
        return self.path

    def discard(self) -> None:
        self.temp.unlink(missing_ok=True)


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write ``path``'s content to; on success it replaces ``path``
    atomically, on an exception it is removed."""
    target = AtomicFile(path)
    try:
        yield target.temp
        target.commit()
    except BaseException:
        target.discard()
        raise
