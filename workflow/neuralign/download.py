"""Verified downloads: the one function every download rule uses, plus safe zip extraction.

``download(url, dest, sha256=..., size=...)`` serves the file from a local mirror when one is
configured (``mirror=`` or the ``NEURALIGN_MIRROR`` environment variable; layout
``<mirror>/<host>/<path>`` of the URL), else streams it over HTTPS into ``<dest>.part``
(resuming a partial file with an HTTP Range request, retrying with exponential backoff). The
result is checked (not an HTML page, size, sha256) and only then renamed into place, so ``dest``
either holds verified data or does not exist. A failed check deletes the ``.part`` file; a
network failure keeps it so that the next run resumes.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import stat
import sys
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from tqdm import tqdm

import neuralign

MIRROR_ENV = "NEURALIGN_MIRROR"
CHUNK = 1 << 20
RETRYABLE_STATUS = {408, 429, 500, 502, 503, 504}
HTML_SUFFIXES = {".html", ".htm"}
DIGESTS = ("sha256", "sha1")


class DownloadError(RuntimeError):
    """A download or archive could not be fetched, verified or safely unpacked."""


class _Retryable(Exception):
    """A transient failure worth another attempt (the ``.part`` file is kept)."""


@dataclass(frozen=True)
class RemoteFile:
    """A published file with the checksum (sha256, or sha1 where only that is published) and,
    when known, the size it must have."""

    url: str
    sha256: str | None = None
    size: int | None = None
    sha1: str | None = None

    def __post_init__(self):
        if not (self.sha256 or self.sha1):
            raise ValueError(f"{self.url}: a published file needs a sha256 or sha1")

    @property
    def digests(self) -> dict[str, str]:
        """Algorithm → expected hex digest, for the checksums we have."""
        return {name: value.lower() for name in DIGESTS if (value := getattr(self, name))}

    def fetch(self, dest: str | os.PathLike, **kwargs) -> Path:
        """``download`` this file to ``dest`` with its checksums and size."""
        return download(self.url, dest, size=self.size, **self.digests, **kwargs)

    def verify(self, path: str | os.PathLike) -> None:
        """Raise DownloadError unless ``path`` is this file (by checksum)."""
        if not Path(path).is_file():
            raise DownloadError(f"{path}: file does not exist; download {self.url}")
        for algorithm, expected in self.digests.items():
            if (digest := file_digest(path, algorithm)) != expected:
                raise DownloadError(
                    f"{path}: {algorithm} {digest} is not that of {self.url} ({expected}); "
                    "download it again"
                )


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


def download(
    url: str,
    dest: str | os.PathLike,
    *,
    sha256: str | None = None,
    size: int | None = None,
    sha1: str | None = None,
    mirror: str | os.PathLike | None = None,
    retries: int = 3,
    backoff: float = 1.0,
    timeout: float = 60.0,
    progress: bool = True,
) -> Path:
    """Fetch ``url`` (HTTPS only) to ``dest``, verified; return ``dest``.

    A ``dest`` that already has ``sha256`` is kept as is. ``sha1`` is checked as well when given
    (for publishers that list only sha1). ``retries`` counts the attempts after
    the first; retry ``i`` (1, 2, ...) first waits ``backoff * 2**(i - 1)`` seconds.
    """
    if urlsplit(url).scheme != "https":
        raise DownloadError(f"{url}: only https:// URLs are downloaded; fix the URL")
    dest = Path(dest)
    if sha256 and dest.is_file() and sha256_file(dest) == sha256.lower():
        return dest
    return _download(
        url,
        dest,
        sha256=sha256,
        size=size,
        sha1=sha1,
        mirror=_mirror_dir(mirror),
        retries=retries,
        backoff=backoff,
        timeout=timeout,
        progress=progress,
    )


def _download(
    url: str,
    dest: Path,
    *,
    sha256: str | None,
    size: int | None,
    mirror: Path | None,
    retries: int,
    sha1: str | None = None,
    backoff: float,
    timeout: float,
    progress: bool,
) -> Path:
    """Everything after the scheme check: mirror or network into ``.part``, verify, rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    candidate = mirror / mirror_path(url) if mirror else None
    if candidate and candidate.is_file():
        shutil.copyfile(candidate, part)
        origin = f"mirror file {candidate}"
        advice = f"replace {candidate} with an intact copy of {url}"
    else:
        _fetch(
            url,
            part,
            retries=retries,
            backoff=backoff,
            timeout=timeout,
            progress=progress,
            hint=_offline_hint(url, candidate),
        )
        origin = url
        advice = (
            "run again to download it afresh; if it fails again the published file changed: "
            "check the URL and update the checksum in the dataset table"
        )
    digests = {"sha256": sha256, "sha1": sha1}
    _verify(part, dest, digests=digests, size=size, origin=origin, advice=advice)
    os.replace(part, dest)
    return dest


def mirror_path(url: str) -> Path:
    """``<host>/<path>`` of a URL, relative to a mirror directory."""
    parts = urlsplit(url)
    path = PurePosixPath(unquote(parts.path))
    if ".." in path.parts or not parts.hostname:
        raise DownloadError(f"{url}: cannot be mapped onto a mirror directory")
    return Path(parts.hostname, *path.parts[1:])


def _mirror_dir(mirror: str | os.PathLike | None) -> Path | None:
    mirror = mirror or os.environ.get(MIRROR_ENV)
    if not mirror:
        return None
    if not Path(mirror).is_dir():
        raise DownloadError(
            f"mirror directory {mirror} does not exist; fix the path or unset {MIRROR_ENV}"
        )
    return Path(mirror)


def _offline_hint(url: str, candidate: Path | None) -> str:
    where = f"${MIRROR_ENV}/{mirror_path(url).as_posix()}"
    hint = (
        f"If this machine is offline, set {MIRROR_ENV} to a directory holding the file at "
        f"{where} (e.g. export {MIRROR_ENV}=../shared/mirror)."
    )
    return hint + (f" The mirror has no {candidate}." if candidate else "")


def _fetch(
    url: str, part: Path, *, retries: int, backoff: float, timeout: float, progress: bool, hint: str
) -> None:
    """Stream ``url`` into ``part``, resuming and retrying; any final failure is DownloadError."""
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        try:
            _fetch_once(url, part, timeout=timeout, progress=progress)
            return
        except urllib.error.HTTPError as err:
            if err.code not in RETRYABLE_STATUS:
                raise DownloadError(
                    f"{url}: HTTP {err.code} {err.reason}; check the URL (has the file moved?)"
                ) from err
            error: Exception = err
        except (_Retryable, urllib.error.URLError, http.client.HTTPException, OSError) as err:
            error = err
    dest = part.with_name(part.name.removesuffix(".part"))
    kept = f" The partial file {part} is kept and resumed on the next run." if part.exists() else ""
    raise DownloadError(
        f"{url}: download to {dest} failed after {retries + 1} attempts ({error}). {hint}{kept}"
    )


def _fetch_once(url: str, part: Path, *, timeout: float, progress: bool) -> None:
    start = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": f"neuralign/{neuralign.__version__}"}
    if start:
        headers["Range"] = f"bytes={start}-"
    try:
        response = urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=timeout
        )
    except urllib.error.HTTPError as err:
        if err.code == 416 and start:
            part.unlink()
            raise _Retryable("the server refused to resume the partial file") from err
        raise
    with response:
        if start and not _resumes_at(response, start):
            start = 0
        length = response.headers.get("Content-Length")
        expected = start + int(length) if length is not None else None
        with (
            open(part, "ab" if start else "wb") as out,
            tqdm(
                total=expected,
                initial=start,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=part.name.removesuffix(".part"),
                file=sys.stderr,
                disable=not progress,
            ) as bar,
        ):
            while chunk := response.read(CHUNK):
                out.write(chunk)
                bar.update(len(chunk))
    received = part.stat().st_size
    if expected is not None and received < expected:
        raise _Retryable(f"connection closed after {received} of {expected} bytes")


def _resumes_at(response, start: int) -> bool:
    """Whether a response to a Range request continues at byte ``start``."""
    match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
    return response.status == 206 and match is not None and int(match.group(1)) == start


def _verify(
    part: Path, dest: Path, *, digests: dict, size: int | None, origin: str, advice: str
) -> None:
    """Check ``part`` is not HTML and has ``size`` and ``digests``; else delete it and raise."""

    def fail(what: str) -> None:
        part.unlink(missing_ok=True)
        raise DownloadError(f"{origin} -> {dest}: {what}; nothing was written; {advice}")

    if dest.suffix.lower() not in HTML_SUFFIXES and _looks_like_html(part):
        fail("got an HTML page (an error or login page?) instead of the data file")
    actual = part.stat().st_size
    if size is not None and actual != size:
        fail(f"has {actual} bytes, expected {size}" + (" (truncated)" if actual < size else ""))
    for algorithm, expected in digests.items():
        if expected and (digest := file_digest(part, algorithm)) != expected.lower():
            fail(f"{algorithm} is {digest}, expected {expected}")


def _looks_like_html(path: Path) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(1024).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html"))


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
            f"{archive}: not a valid zip archive ({err}); download it again"
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
