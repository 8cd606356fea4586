"""The one file-hashing helper: sha256 of a file, streamed, for manifests, checkpoints and fingerprints."""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from .inputs import open_regular

_CHUNK = 8 << 20


def file_sha256(path: str | Path, *, cached: bool = False) -> str:
    """Hex sha256 of a file's bytes.

    ``cached=True`` remembers the digest for the same path, size and modification time (for model
    fingerprints, which are asked for repeatedly); integrity checks never pass it, so they always read
    the bytes.
    """
    if not cached:
        return _digest(path)
    st = os.stat(path)
    return _digest_cached(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


def _digest(path: str | Path) -> str:
    h = hashlib.sha256()
    with open_regular(path) as f:
        while block := f.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


@functools.lru_cache(maxsize=64)
def _digest_cached(path: str, size: int, mtime_ns: int) -> str:
    return _digest(path)
