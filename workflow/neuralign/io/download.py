"""Verified downloads: the one function every download rule uses, plus safe zip extraction.

``download(url, dest, sha256=..., size=...)`` serves the file from a local mirror when one is
configured (``mirror=`` or the ``NEURALIGN_MIRROR`` environment variable; layout
``<mirror>/<host>/<path>`` of the URL), else streams it over HTTPS into ``<dest>.part``
(resuming a partial file with an HTTP Range request, retrying network errors with exponential
backoff). The result is checked (not an HTML page, size, every checksum given: sha256, sha1,
md5 or the sha256 prefix some publishers put in file names) and only then renamed into place,
so ``dest`` either holds verified data or does not exist. A failed check deletes the ``.part``
file; a network failure keeps it so that the next run resumes. Where downloads are kept,
file digests and the trust-on-first-use lock are in ``neuralign.io.resources``.

Why not pooch: pooch (fatiando/pooch) has a registry, hashes, retries and a progress bar, but its
``HTTPDownloader`` (``pooch/downloaders.py`` at commit 3634bb3e9e36c7408435289820e3d4ee78c4b9d8)
opens the output with ``"w+b"`` and sends no ``Range`` header, so an interrupted multi-gigabyte
download starts again from zero, and it has no notion of a ``<mirror>/<host>/<path>`` mirror;
its registry needs a known hash per file, which trust on first use does not have before the
first download. Keeping these properties would mean replacing its downloader and cache layout,
i.e. most of what it offers, so the project keeps this module (standard library + tqdm).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tqdm import tqdm

import neuralign

# extract_zip moved to neuralign.io.archives; still imported from here by datasets.cowley2023
# and datasets.majajhong2015 until they import it from there
from neuralign.io.resources import (
    CHUNK,
    DownloadError,
    DownloadLock,
    file_digest,
    mirror_path,
    sha256_file,
    verify_file,
)

MIRROR_ENV = "NEURALIGN_MIRROR"
RETRYABLE_STATUS = {408, 429, 500, 502, 503, 504}
DIGESTS = ("sha256", "sha1", "md5")


class _Retryable(Exception):
    """A transient failure worth another attempt (the ``.part`` file is kept)."""


@dataclass(frozen=True)
class RemoteFile:
    """A published file and what its publisher says about it: checksums (sha256, sha1, md5,
    or a sha256 prefix in the file name) and size, any of which may be unknown. A file without
    a published sha256 is pinned by trust on first use (``DownloadLock``)."""

    url: str
    sha256: str | None = None
    size: int | None = None
    sha1: str | None = None
    md5: str | None = None
    sha256_prefix: str | None = None

    @property
    def digests(self) -> dict[str, str]:
        """Algorithm → expected hex digest, for the checksums we have."""
        return {name: value.lower() for name in DIGESTS if (value := getattr(self, name))}

    @property
    def trust_on_first_use(self) -> bool:
        """Whether the lock file, not the publisher, pins this file's sha256."""
        return not self.sha256

    def fetch(self, dest: str | os.PathLike, *, lock: DownloadLock | None = None, **kwargs) -> Path:
        """``download`` this file to ``dest`` with its checksums and size; with ``lock``, a
        file without a published sha256 is verified against (or recorded in) the lock file."""
        return download(
            self.url,
            dest,
            size=self.size,
            sha256_prefix=self.sha256_prefix,
            lock=lock if self.trust_on_first_use else None,
            **self.digests,
            **kwargs,
        )

    def verify(self, path: str | os.PathLike, *, lock: DownloadLock | None = None) -> None:
        """Raise DownloadError unless ``path`` is this file: its published checksums and, for a
        file without a published sha256, the lock file's entry (recorded now if there is
        none). The message says to delete the file and rerun (the workflow fetches it again)."""
        path = Path(path)
        if not path.is_file():
            raise DownloadError(f"{path}: file does not exist; download {self.url}")
        again = f"delete {path} and rerun: the workflow downloads it again"
        for algorithm, expected in self.digests.items():
            if (digest := file_digest(path, algorithm)) != expected:
                raise DownloadError(
                    f"{path}: {algorithm} {digest} is not the published {expected} of "
                    f"{self.url}; {again}"
                )
        if self.sha256_prefix and not sha256_file(path).startswith(self.sha256_prefix):
            raise DownloadError(
                f"{path}: sha256 does not start with {self.sha256_prefix}, as the name of "
                f"{self.url} says it must; {again}"
            )
        if lock is not None and self.trust_on_first_use:
            try:
                lock.record(self.url, path, path)
            except DownloadError as err:
                raise DownloadError(f"{err}; or {again}") from err


@dataclass(frozen=True)
class FigshareFile:
    """A file of a public figshare article. Figshare publishes an md5 and a size per file
    (``computed_md5``, ``size`` in ``GET https://api.figshare.com/v2/articles/<id>/files``,
    docs.figshare.com); ``fetch`` reads them from that listing (through ``download``, so a
    mirror copy at ``<mirror>/api.figshare.com/v2/articles/<id>/files`` serves offline runs)
    and verifies the file by both; its sha256 is then pinned by trust on first use."""

    article: int
    file_id: int
    name: str

    @property
    def url(self) -> str:
        return f"https://ndownloader.figshare.com/files/{self.file_id}"

    @property
    def listing_url(self) -> str:
        return f"https://api.figshare.com/v2/articles/{self.article}/files?page_size=1000"

    def published(self, listing: str | os.PathLike) -> RemoteFile:
        """This file with the md5 and size that the article's ``listing`` (JSON) gives it."""
        try:
            files = json.loads(Path(listing).read_text())
            entry = next(f for f in files if int(f["id"]) == self.file_id)
            md5, size = entry.get("computed_md5") or entry["supplied_md5"], int(entry["size"])
        except (ValueError, KeyError, TypeError, StopIteration) as err:
            raise DownloadError(
                f"{self.listing_url}: the figshare file listing has no md5 and size of file "
                f"{self.file_id} ({self.name}) ({err!r}); has the article changed?"
            ) from err
        return RemoteFile(self.url, size=size, md5=md5)

    def fetch(self, dest: str | os.PathLike, *, lock: DownloadLock | None = None, **kwargs) -> Path:
        """Download the listing, then this file verified by its md5 and size (and ``lock``)."""
        dest = Path(dest)
        listing = dest.with_name(f".{dest.name}.figshare.json")
        try:
            download(self.listing_url, listing, **kwargs)
            return self.published(listing).fetch(dest, lock=lock, **kwargs)
        finally:
            listing.unlink(missing_ok=True)

    def verify(self, path: str | os.PathLike, *, lock: DownloadLock | None = None) -> None:
        """Check ``path`` against the lock file (the md5 was checked when it was downloaded)."""
        RemoteFile(self.url).verify(path, lock=lock)


def download(
    url: str,
    dest: str | os.PathLike,
    *,
    sha256: str | None = None,
    size: int | None = None,
    sha1: str | None = None,
    md5: str | None = None,
    sha256_prefix: str | None = None,
    lock: DownloadLock | None = None,
    mirror: str | os.PathLike | None = None,
    retries: int = 3,
    backoff: float = 1.0,
    timeout: float = 60.0,
    progress: bool = True,
) -> Path:
    """Fetch ``url`` (HTTPS only) to ``dest``, verified; return ``dest``.

    A ``dest`` that already has ``sha256`` is kept as is. ``sha1`` and ``md5`` are checked as
    well when given (for publishers that list only those). Without ``sha256``, ``lock`` pins the
    file: its recorded sha256 and size are required, or, on the first download, the file's are
    recorded. ``retries`` counts the attempts after the first (network errors only); retry
    ``i`` (1, 2, ...) first waits ``backoff * 2**(i - 1)`` seconds.
    """
    if urlsplit(url).scheme != "https":
        raise DownloadError(f"{url}: only https:// URLs are downloaded; fix the URL")
    dest = Path(dest)
    if sha256 is None and lock is not None and (entry := lock.get(url)):
        sha256, size = entry.sha256, size or entry.size
    if sha256 and dest.is_file() and sha256_file(dest) == sha256.lower():
        return dest
    return _download(
        url,
        dest,
        sha256=sha256,
        size=size,
        sha1=sha1,
        md5=md5,
        sha256_prefix=sha256_prefix,
        lock=lock,
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
    md5: str | None = None,
    sha256_prefix: str | None = None,
    lock: DownloadLock | None = None,
    backoff: float,
    timeout: float,
    progress: bool,
) -> Path:
    """Everything after the scheme check: mirror or network into ``.part``, verify, record in
    the lock file (trust on first use), rename."""
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
            "check the URL and its checksum in the workflow's file tables"
        )
    pinned = lock is not None and lock.get(url) is not None
    if pinned:
        advice = (
            f"the sha256 is the one {lock.path} recorded on the first download; if the "
            f"published file changed on purpose, delete the line of {url} from {lock.path} "
            "and rerun"
        )
    digests = {"sha256": sha256, "sha1": sha1, "md5": md5}
    verify_file(
        part,
        dest,
        digests=digests,
        size=size,
        sha256_prefix=sha256_prefix,
        origin=origin,
        advice=advice,
    )
    if lock is not None:
        try:
            lock.record(url, part, dest)
        except DownloadError:
            part.unlink(missing_ok=True)
            raise
    os.replace(part, dest)
    return dest


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
