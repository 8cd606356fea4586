"""The one file-hashing helper: sha256 of a file (local, or a :class:`~rs_formats.location.Location` in a
store), streamed, for manifests, checkpoints and fingerprints."""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .inputs import open_regular

if TYPE_CHECKING:
    from .location import Location

_CHUNK = 8 << 20


def file_sha256(path: str | Path | Location, *, cached: bool = False) -> str:
    """Hex sha256 of a file's bytes.

    ``cached=True`` remembers the digest for the same path, size and modification time (for model
    fingerprints, which are asked for repeatedly); integrity checks never pass it, so they always read
    the bytes.
    """
    if not cached or not isinstance(path, (str, Path)):
        return _digest(path)
    st = os.stat(path)
    return _digest_cached(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


def _digest(path: str | Path | Location) -> str:
    h = hashlib.sha256()
    with open_regular(path) if isinstance(path, (str, Path)) else path.open_stream() as f:
        while block := f.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


@functools.lru_cache(maxsize=64)
def _digest_cached(path: str, size: int, mtime_ns: int) -> str:
    return _digest(path)
