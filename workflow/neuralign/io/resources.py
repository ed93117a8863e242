"""Where the workflow keeps downloads (``resource_path``, ``mirror_path``), file digests, and
the trust-on-first-use lock.

Trust on first use: a file without a published sha256 (``RemoteFile`` with only an md5 or sha1,
or with no checksum at all) is pinned in a lock file (``DownloadLock``, by default
``config/downloads.lock``, one line ``<sha256> <size> <url>`` per URL, meant to be committed).
The first download records its sha256 and size; every later download, here or on another
machine, must match them, else it stops naming the file and both hashes. Writers take an
exclusive ``fcntl.flock`` on a sidecar file and replace the lock file atomically, so parallel
download jobs cannot lose each other's lines.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

RESOURCES = Path("resources")
DEFAULT_LOCK = "config/downloads.lock"
CHUNK = 1 << 20
HTML_SUFFIXES = {".html", ".htm"}
LOCK_HEADER = """\
# Trust on first use: the sha256 and size of every downloaded file that has no published
# sha256, recorded by neuralign on its first download. Commit this file: later runs and other
# machines verify their downloads against it, and a changed file stops the run.
# Format: <sha256> <size in bytes> <url>
"""


class DownloadError(RuntimeError):
    """A download or archive could not be fetched, verified or safely unpacked."""


@dataclass(frozen=True)
class LockEntry:
    """What the first download of a URL found."""

    sha256: str
    size: int


class DownloadLock:
    """The trust-on-first-use lock file: URL -> (sha256, size), one ``<sha256> <size> <url>``
    line each, sorted by URL, ``#`` comments allowed."""

    def __init__(self, path: str | os.PathLike = DEFAULT_LOCK):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"DownloadLock({str(self.path)!r})"

    def entries(self) -> dict[str, LockEntry]:
        """Every recorded URL; DownloadError naming the line when the file is malformed."""
        if not self.path.is_file():
            return {}
        entries = {}
        for number, line in enumerate(self.path.read_text().splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            fields = line.split()
            if (
                len(fields) != 3
                or not re.fullmatch(r"[0-9a-f]{64}", fields[0])
                or not fields[1].isdigit()
            ):
                raise DownloadError(
                    f"{self.path}, line {number}: {line!r} is not '<sha256> <size> <url>'; "
                    "fix or delete that line"
                )
            entries[fields[2]] = LockEntry(fields[0], int(fields[1]))
        return entries

    def get(self, url: str) -> LockEntry | None:
        return self.entries().get(url)

    def record(self, url: str, path: str | os.PathLike, dest: str | os.PathLike) -> LockEntry:
        """Pin ``url`` to the sha256 and size of ``path`` (the file about to become ``dest``).

        Under an exclusive lock the file is read again: an entry written meanwhile by another
        job must match, else DownloadError naming ``dest`` and both hashes.
        """
        found = LockEntry(sha256_file(path), Path(path).stat().st_size)
        with self._exclusive():
            entries = self.entries()
            known = entries.get(url)
            if known is not None:
                self._compare(url, known, found, dest)
                return known
            entries[url] = found
            self._write(entries)
        return found

    def _compare(
        self, url: str, known: LockEntry, found: LockEntry, dest: str | os.PathLike
    ) -> None:
        """DownloadError unless ``found`` is what the lock file records for ``url``."""
        if known == found:
            return
        raise DownloadError(
            f"{dest}: sha256 {found.sha256} ({found.size} bytes) differs from the sha256 "
            f"{known.sha256} ({known.size} bytes) that {self.path} recorded for {url} on its "
            "first download: the published file changed, or this copy is corrupt. Nothing was "
            f"kept. If the new file is intended, delete the line of {url} from {self.path} "
            "and rerun"
        )

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(f".{self.path.name}.flock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _write(self, entries: dict[str, LockEntry]) -> None:
        lines = [f"{e.sha256} {e.size} {url}\n" for url, e in sorted(entries.items())]
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(LOCK_HEADER + "".join(lines))
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in chunks."""
    return file_digest(path, "sha256")


def verify_file(
    part: Path,
    dest: Path,
    *,
    digests: dict,
    size: int | None,
    origin: str,
    advice: str,
    sha256_prefix: str | None = None,
) -> None:
    """Check a download ``part`` (to become ``dest``) is not HTML and has ``size``,
    ``digests`` and ``sha256_prefix``; else delete it and raise DownloadError."""

    def fail(what: str) -> None:
        part.unlink(missing_ok=True)
        raise DownloadError(f"{origin} -> {dest}: {what}; nothing was written; {advice}")

    if dest.suffix.lower() not in HTML_SUFFIXES and looks_like_html(part):
        fail("got an HTML page (an error or login page?) instead of the data file")
    actual = part.stat().st_size
    if size is not None and actual != size:
        fail(f"has {actual} bytes, expected {size}" + (" (truncated)" if actual < size else ""))
    for algorithm, expected in digests.items():
        if expected and (digest := file_digest(part, algorithm)) != expected.lower():
            fail(f"{algorithm} is {digest}, expected {expected}")
    if sha256_prefix and not (digest := sha256_file(part)).startswith(sha256_prefix):
        fail(f"sha256 is {digest}, which does not start with {sha256_prefix} (from its name)")


def looks_like_html(path: Path) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(1024).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html"))


def mirror_path(url: str) -> Path:
    """``<host>/<path>`` of a URL, relative to a mirror directory."""
    parts = urlsplit(url)
    path = PurePosixPath(unquote(parts.path))
    if ".." in path.parts or not parts.hostname:
        raise DownloadError(f"{url}: cannot be mapped onto a mirror directory")
    return Path(parts.hostname, *path.parts[1:])


def resource_path(remote) -> str:
    """Where the workflow keeps a download (a ``neuralign.io.download.RemoteFile``):
    ``resources/<host>/<path>`` of its URL."""
    return str(RESOURCES / mirror_path(remote.url))


def fetch_verified(*, remote, dest: str, lock: str, log, provenance: dict) -> None:
    """The download job: fetch one published file (a ``neuralign.io.download.RemoteFile`` or
    ``FigshareFile``) to ``dest``, verified by its published checksums or by the lock file
    ``lock`` (trust on first use)."""
    remote.fetch(dest, lock=DownloadLock(lock))
    log.info("%s -> %s (verified; lock file %s)", remote.url, dest, lock)
