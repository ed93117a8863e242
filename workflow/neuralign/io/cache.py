"""A content-addressed store of netCDF artifacts: same inputs, same key, no recomputation.

An entry is ``<cache_dir>/<key[:2]>/<key>.nc`` with a sidecar ``<key>.nc.json`` holding its
size and sha256, written after the entry. A hit is verified against them while it is copied (a
lazy open is no check: a file truncated in its data region still opens); a bad entry (no
sidecar, wrong size or digest) is evicted with a warning and recomputed. A hit keeps the
provenance of the run that computed it and adds ``cache_hit_key`` and ``cache_hit_date`` to
its attributes. A cache that cannot be read or written (read-only, full) is a warning: the job's own
output is still written.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import netCDF4

from neuralign.io.atomic import AtomicFile, atomic_path
from neuralign.io.resources import sha256_file

CHUNK = 1 << 20
log = logging.getLogger("neuralign")


def content_key(description: dict, files: Iterable[str | os.PathLike] = ()) -> str:
    """sha256 over a JSON description and the contents of ``files`` (in order)."""
    digest = hashlib.sha256(json.dumps(description, sort_keys=True, default=str).encode())
    for path in files:
        digest.update(sha256_file(path).encode())
    return digest.hexdigest()


def entry_path(cache_dir: str | os.PathLike, key: str) -> Path:
    """Where the entry of ``key`` lives."""
    return Path(cache_dir) / key[:2] / f"{key}.nc"


def sidecar_path(entry: Path) -> Path:
    return entry.with_name(f"{entry.name}.json")


def cached(
    key: str,
    cache_dir: str | os.PathLike | None,
    out_path: str | os.PathLike,
    compute: Callable[[Path], None],
) -> bool:
    """Put the netCDF artifact of ``key`` at ``out_path``, computing it only without a valid
    cache entry; returns True on a (verified) hit.

    ``compute(path)`` must write the artifact to ``path``. Without a ``cache_dir`` it always
    computes.
    """
    out_path = Path(out_path)
    if not cache_dir:
        compute(out_path)
        return False
    entry = entry_path(cache_dir, key)
    if _fetch(entry, key, out_path):
        return True
    compute(out_path)
    _store(out_path, entry, key)
    return False


def _copy(source: Path, target: Path) -> tuple[int, str]:
    """Copy ``source`` to ``target``; its size and sha256."""
    digest, size = hashlib.sha256(), 0
    with open(source, "rb") as src, open(target, "wb") as dst:
        for block in iter(lambda: src.read(CHUNK), b""):
            digest.update(block)
            size += len(block)
            dst.write(block)
    return size, digest.hexdigest()


def _fetch(entry: Path, key: str, out_path: Path) -> bool:
    """Copy a verified entry to ``out_path`` (marked as a hit); evict a bad one."""
    if not entry.is_file():
        return False
    try:
        record = json.loads(sidecar_path(entry).read_text())
        size, sha256 = int(record["size"]), str(record["sha256"])
    except FileNotFoundError:
        return _evict(entry, "it has no size and checksum record (an older or unfinished entry)")
    except (OSError, ValueError, KeyError, TypeError) as err:
        return _evict(entry, f"its record {sidecar_path(entry)} cannot be read ({err})")
    if entry.stat().st_size != size:
        return _evict(entry, f"it has {entry.stat().st_size} bytes, its record says {size}")
    target = AtomicFile(out_path)
    try:
        _, digest = _copy(entry, target.temp)
        if digest != sha256:
            target.discard()
            return _evict(entry, f"its sha256 is {digest}, its record says {sha256}")
        date = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        with netCDF4.Dataset(target.temp, "a") as nc:
            nc.setncattr("cache_hit_key", key)
            nc.setncattr("cache_hit_date", date)
        target.commit()
    except OSError as err:
        target.discard()
        log.warning("could not use cache entry %s (%s); recomputing", entry, err)
        return False
    except BaseException:
        target.discard()
        raise
    return True


def _evict(entry: Path, reason: str) -> bool:
    """Warn that ``entry`` is bad and remove it (and its record); False (no hit)."""
    log.warning("cache entry %s is not valid: %s; evicting it and recomputing", entry, reason)
    for path in (entry, sidecar_path(entry)):
        try:
            path.unlink(missing_ok=True)
        except OSError as err:
            log.warning("could not evict %s (%s); remove it by hand", path, err)
    return False


def _store(out_path: Path, entry: Path, key: str) -> None:
    """Copy ``out_path`` into the cache as ``entry``, then its record; a failure only warns."""
    try:
        target = AtomicFile(entry)
        try:
            size, sha256 = _copy(out_path, target.temp)
            target.commit()
        except BaseException:
            target.discard()
            raise
        record = {"key": key, "size": size, "sha256": sha256, "source": str(out_path)}
        with atomic_path(sidecar_path(entry)) as temp:
            temp.write_text(json.dumps(record, indent=1))
    except OSError as err:
        log.warning(
            "could not store %s in the cache as %s (%s); the output is complete, only the "
            "cache was not updated",
            out_path,
            entry,
            err,
        )
