"""A content-addressed store of artifacts: same inputs, same key, no recomputation."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from neuralign.download import sha256_file


def content_key(description: dict, files: Iterable[str | os.PathLike] = ()) -> str:
    """sha256 over a JSON description and the contents of ``files`` (in order)."""
    digest = hashlib.sha256(json.dumps(description, sort_keys=True, default=str).encode())
    for path in files:
        digest.update(sha256_file(path).encode())
    return digest.hexdigest()


def cached(
    key: str,
    cache_dir: str | os.PathLike | None,
    out_path: str | os.PathLike,
    compute: Callable[[Path], None],
) -> bool:
    """Put the artifact of ``key`` at ``out_path``, computing it only on a cache miss.

    ``compute(path)`` must write the artifact to ``path``. Returns True on a hit. Without a
    ``cache_dir`` it always computes.
    """
    out_path = Path(out_path)
    if not cache_dir:
        compute(out_path)
        return False
    entry = Path(cache_dir) / key[:2] / f"{key}{out_path.suffix}"
    if entry.is_file():
        out_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(entry, out_path)
        return True
    compute(out_path)
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = entry.with_name(f".{entry.name}.tmp")
    shutil.copyfile(out_path, tmp)
    os.replace(tmp, entry)
    return False
