"""Embeddings on disk: one model's image embeddings of one dataset split, as a Parquet dataset keyed by image id.

Layout of a directory written by :func:`write_embeddings`:

* ``part-00000.parquet``, ...: rows ``image_id`` (string) and ``embedding`` (fixed-size list of float32,
  L2-normalised), in the split's row order, in row groups of :data:`ROW_GROUP_ROWS`;
* ``embeddings.json``: the format name and version, what was embedded (the model spec and its fingerprint,
  the dataset's path, name and manifest sha256, the split, the precision), the dimension, the row count,
  each file's sha256 and the :class:`~rs_clip_eval.cache.EmbeddingCache` key of the same embeddings.

Decisions: the directory appears atomically (:func:`rs_formats.atomic.atomic_dir`), so a failed run leaves
nothing; the cache key is recorded so that the evaluation cache can serve these embeddings without a copy
(:meth:`EmbeddingCache.adopt`); readers stream row groups (:meth:`Embeddings.iter_batches`), so an
archive's embeddings are searched with memory bounded by one row group.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .atomic import atomic_dir, naming
from .errors import FormatError
from .hashing import file_sha256

FORMAT = "rs-clip-embeddings"
VERSION = 1
MANIFEST = "embeddings.json"
ROW_GROUP_ROWS = 4096
#: Rows per file: a few hundred MB of 512-d float32 embeddings.
FILE_ROWS = 1 << 17


def write_embeddings(
    out: str | Path,
    batches: Iterable[tuple[list[str], np.ndarray]],
    meta: dict[str, Any],
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write ``(image ids, [n, D] float32)`` batches, in order, to ``out``; returns the manifest."""
    out = Path(out)
    with naming(out), atomic_dir(out, overwrite=overwrite) as tmp:
        files: list[str] = []
        writer: pq.ParquetWriter | None = None
        rows = in_file = dim = 0
        for ids, vectors in batches:
            vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            if len(ids) != len(vectors):
                raise ValueError(f"{len(ids)} image ids for {len(vectors)} embeddings")
            if not len(ids):
                continue
            dim = dim or vectors.shape[1]
            if writer is not None and in_file >= FILE_ROWS:
                writer.close()
                writer = None
            if writer is None:
                files.append(f"part-{len(files):05d}.parquet")
                writer = pq.ParquetWriter(tmp / files[-1], _schema(dim))
                in_file = 0
            table = pa.table(
                {
                    "image_id": pa.array(ids, pa.string()),
                    "embedding": pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), dim),
                },
                schema=_schema(dim),
            )
            writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
            rows += len(ids)
            in_file += len(ids)
        if writer is not None:
            writer.close()
        manifest = {
            "format": FORMAT,
            "format_version": VERSION,
            **meta,
            "dim": dim,
            "rows": rows,
            "files": {name: file_sha256(tmp / name) for name in files},
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    return manifest


def _schema(dim: int) -> pa.Schema:
    return pa.schema([("image_id", pa.string()), ("embedding", pa.list_(pa.float32(), dim))])


class Embeddings:
    """An embeddings directory, opened: its manifest checked, its files streamed."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.meta = json.loads((self.path / MANIFEST).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise FormatError(self.path / MANIFEST, f"not an embeddings directory: {exc}") from None
        if self.meta.get("format") != FORMAT or self.meta.get("format_version") != VERSION:
            raise FormatError(
                self.path / MANIFEST,
                f"not {FORMAT} version {VERSION}: format "
                f"{self.meta.get('format')!r} {self.meta.get('format_version')!r}",
            )
        for name in self.meta["files"]:
            if not (self.path / name).is_file():
                raise FormatError(
                    self.path / name, f"missing: listed in {self.path / MANIFEST} but not on disk"
                )

    @property
    def num_rows(self) -> int:
        return int(self.meta["rows"])

    @property
    def dim(self) -> int:
        return int(self.meta["dim"])

    def iter_batches(self) -> Iterator[tuple[list[str], np.ndarray]]:
        """``(image ids, [n, D] float32)`` per row group, in row order."""
        for name in self.meta["files"]:
            try:
                parquet = pq.ParquetFile(self.path / name)
                for group in range(parquet.num_row_groups):
                    table = parquet.read_row_group(group)
                    flat = table.column("embedding").combine_chunks().flatten().to_numpy(zero_copy_only=False)
                    yield table.column("image_id").to_pylist(), flat.reshape(-1, self.dim)
            except (pa.ArrowException, OSError) as exc:
                raise FormatError(self.path / name, f"unreadable: {exc}") from None

    def matrix(self) -> tuple[list[str], np.ndarray]:
        """Every image id and the ``[N, D]`` matrix, in row order."""
        ids: list[str] = []
        out = np.empty((self.num_rows, self.dim), dtype=np.float32)
        at = 0
        for batch_ids, vectors in self.iter_batches():
            out[at : at + len(batch_ids)] = vectors
            ids.extend(batch_ids)
            at += len(batch_ids)
        if at != self.num_rows:
            raise FormatError(self.path / MANIFEST, f"lists {self.num_rows} rows but its files hold {at}")
        return ids, out

    def verify(self) -> None:
        """Every file's checksum against the manifest (reading is not verifying: files are large)."""
        for name, digest in self.meta["files"].items():
            if file_sha256(self.path / name) != digest:
                raise FormatError(self.path / name, "sha256 differs from the manifest (changed or damaged)")


def open_embeddings(path: str | Path) -> Embeddings:
    return Embeddings(path)
