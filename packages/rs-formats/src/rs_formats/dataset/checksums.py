"""A shard's checksums: of the whole file (``sha256``) and of each row group (``row_group_sha256``).

Decisions:

- A row group's checksum covers its bytes in the file: its column chunks, which Parquet writers lay out
  one after the other, from the first chunk's first page (its dictionary page, if any) to the end of the
  last chunk, page headers included. The footer is not covered: opening a dataset checks every footer
  against the manifest's row counts and schema, and ``verify`` checks the whole file.
- A reader that has the manifest's digest for a row group fetches exactly that byte range (one read, in
  a store one ranged request), checks it, and hands Parquet those same bytes: what is decoded is what was
  checked, and a worker that reads a few row groups of a shard never fetches the rest of it.
- Writers compute both kinds in one pass over each shard.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq

from ..errors import FormatError

if TYPE_CHECKING:
    from ..location import Location


def byte_range(meta: pq.FileMetaData, index: int) -> tuple[int, int]:
    """``(start, end)`` of row group ``index``'s column chunks in the file."""
    group = meta.row_group(index)
    spans = []
    for c in range(group.num_columns):
        column = group.column(c)
        start = column.dictionary_page_offset if column.has_dictionary_page else column.data_page_offset
        spans.append((start, start + column.total_compressed_size))
    return min(s for s, _ in spans), max(e for _, e in spans)


def shard_digests(path: Path) -> tuple[str, list[str]]:
    """The sha256 of a shard just written and of each of its row groups, reading the file once."""
    meta = pq.ParquetFile(path).metadata
    whole, groups, at = hashlib.sha256(), [], 0
    with open(path, "rb") as f:
        for i in range(meta.num_row_groups):
            start, end = byte_range(meta, i)
            whole.update(f.read(start - at))
            data = f.read(end - start)
            whole.update(data)
            groups.append(hashlib.sha256(data).hexdigest())
            at = end
        while block := f.read(8 << 20):
            whole.update(block)
    return whole.hexdigest(), groups


def verified_group(
    shard: Path | Location, source: Any, meta: pq.FileMetaData, index: int, want: str
) -> pq.ParquetFile:
    """The shard as a ParquetFile whose row group ``index`` is served from bytes checked against ``want``;
    FormatError naming the shard on a mismatch."""
    start, end = byte_range(meta, index)
    data = source.read_at(end - start, start)
    got = hashlib.sha256(data).hexdigest()
    if got != want:
        raise FormatError(
            shard,
            f"row group {index}: sha256 mismatch: manifest says {want[:12]}…, its bytes are {got[:12]}…",
        )
    return pq.ParquetFile(_Served(source, start, bytes(data)), metadata=meta)


class _Served(io.RawIOBase):
    """A shard seen through one checked row group: reads inside it come from memory, others (Parquet needs
    none once it has the footer) from the file."""

    def __init__(self, source: Any, start: int, data: bytes):
        self._source, self._start, self._data, self._at = source, start, data, 0
        self._size = source.size()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._at

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._at, io.SEEK_END: self._size}[whence]
        self._at = base + offset
        return self._at

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), max(self._size - self._at, 0))
        offset = self._at - self._start
        if 0 <= offset and offset + n <= len(self._data):
            chunk = self._data[offset : offset + n]
        else:
            chunk = self._source.read_at(n, self._at)
        buffer[: len(chunk)] = chunk
        self._at += len(chunk)
        return len(chunk)
