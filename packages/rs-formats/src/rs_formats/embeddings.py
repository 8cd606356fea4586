"""Contract 4: the ``rs-clip-embeddings`` folder (version 1): one model's image embeddings of one dataset split,
as Parquet files keyed by image id (docs/contracts.md).

Layout of a directory written by :func:`write_embeddings`:

* ``part-00000.parquet``, ...: rows ``image_id`` (string) and ``embedding`` (fixed-size list of float32,
  L2-normalised), in the split's row order, in row groups of :data:`ROW_GROUP_ROWS`;
* ``embeddings.json``: the format name and version, what was embedded (the model spec and its fingerprint,
  the dataset's path, name and manifest sha256, the split, the precision), the dimension, the row count,
  each file's sha256 and the :class:`~rs_clip_eval.embedding_cache.EmbeddingCache` key of the same embeddings.

Decisions: the directory appears atomically (:func:`rs_formats.atomic.atomic_dir`), so a failed run leaves
nothing; in a store (``s3://bucket/prefix``, :mod:`rs_formats.location`), where nothing renames, the files
are uploaded first and ``embeddings.json`` last (:mod:`rs_formats.publish`), and a prefix without it is
refused by readers; the cache key is recorded so that the evaluation cache can serve these embeddings
without a copy (:meth:`EmbeddingCache.adopt`); readers stream row groups (:meth:`Embeddings.iter_batches`), so an
archive's embeddings are searched with memory bounded by one row group.

Reading trusts nothing in the folder (:func:`open_embeddings`): the manifest is bounded JSON read by
:mod:`rs_formats.inputs`, each file name it lists stays inside the folder (no ``..``, no absolute path, no
symlink leading out) and names a regular file, each file's sha256 is checked before its rows are read
(a store's file is streamed once into local scratch, hashed on the way, and read from there),
and a vector that is not finite (NaN, infinity) is refused; each problem is one FormatError naming the
file.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .atomic import atomic_dir, naming
from .errors import FormatError
from .hashing import file_sha256
from .inputs import check_name, check_regular, join_inside, read_json
from .location import Location, path_or_location
from .publish import check_target, publish, read_manifest

FORMAT = "rs-clip-embeddings"
VERSION = 1
READABLE_VERSIONS = (1,)
MANIFEST = "embeddings.json"
ROW_GROUP_ROWS = 4096
#: Rows per file: a few hundred MB of 512-d float32 embeddings.
#: A rows file's name: ``part-00000.parquet``, ... (also what an upload leaves before its manifest).
PART = re.compile(r"part-\d{5}\.parquet")
FILE_ROWS = 1 << 17


def write_embeddings(
    out: str | Path | Location,
    batches: Iterable[tuple[list[str], np.ndarray]],
    meta: dict[str, Any],
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write ``(image ids, [n, D] float32)`` batches, in order, to ``out`` (a folder, or a prefix in a store);
    returns the manifest."""
    place = path_or_location(out)
    if isinstance(place, Path):
        with naming(place), atomic_dir(place, overwrite=overwrite) as tmp:
            return _write_into(tmp, batches, meta)
    check_target(place, overwrite, MANIFEST, FORMAT, PART)  # before the batches are computed
    tmp = Path(tempfile.mkdtemp(prefix="rs-clip-embeddings-"))
    try:
        manifest = _write_into(tmp, batches, meta)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    publish(tmp, place, overwrite, MANIFEST, FORMAT, PART)
    return manifest


def _write_into(
    tmp: Path, batches: Iterable[tuple[list[str], np.ndarray]], meta: dict[str, Any]
) -> dict[str, Any]:
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
    """An embeddings folder, opened: its manifest checked, its files verified and streamed."""

    def __init__(self, path: str | Path | Location):
        self.path = path_or_location(path)
        mpath = self.path / MANIFEST
        meta = _read_stored(self.path) if isinstance(self.path, Location) else _read_local(self.path)
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            got = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
            raise FormatError(mpath, f"format is {got!r}, expected {FORMAT!r}")
        version = meta.get("format_version")
        if version not in READABLE_VERSIONS or isinstance(version, bool):
            raise FormatError(
                mpath,
                f"format_version {version!r} is not supported by this rs-formats "
                f"(reads {', '.join(map(str, READABLE_VERSIONS))}); upgrade rs-formats to read it",
            )
        for key in ("rows", "dim"):
            if not isinstance(meta.get(key), int) or isinstance(meta[key], bool) or meta[key] < 0:
                raise FormatError(mpath, f"{key!r} is {meta.get(key)!r}, not a count")
        files = meta.get("files")
        if not isinstance(files, dict):
            raise FormatError(mpath, f"'files' is {files!r}, not a map of file names to sha256 checksums")
        self.files: dict[Path | Location, str] = {}
        for name, digest in files.items():
            if isinstance(self.path, Location):
                file = self.path / check_name(name, cited=mpath).as_posix()
            else:
                file = join_inside(self.path, name, cited=mpath)
            if not isinstance(digest, str) or len(digest) != 64:
                raise FormatError(mpath, f"the sha256 of {name!r} is {digest!r}, not 64 hex digits")
            if isinstance(file, Location):
                if file.kind() != "file":
                    raise FormatError(file, f"missing: listed in {mpath} but not in the store")
            elif not file.exists():
                raise FormatError(file, f"missing: listed in {mpath} but not on disk")
            else:
                check_regular(file)
            self.files[file] = digest
        self.meta = meta
        self._verified: set[Path] = set()

    @property
    def num_rows(self) -> int:
        return int(self.meta["rows"])

    @property
    def dim(self) -> int:
        return int(self.meta["dim"])

    def iter_batches(self) -> Iterator[tuple[list[str], np.ndarray]]:
        """``(image ids, [n, D] float32)`` per row group, in row order; each file is verified against its
        checksum before its rows are read, and a vector that is not finite is an error naming the row."""
        for file in self.files:
            with self._verified_copy(file) as local:
                try:
                    parquet = pq.ParquetFile(local)
                    for group in range(parquet.num_row_groups):
                        yield self._rows(file, group, parquet.read_row_group(group))
                except (pa.ArrowException, KeyError, OSError) as exc:
                    raise FormatError(file, f"unreadable: {exc}") from None

    def _rows(self, file: Path | Location, group: int, table: pa.Table) -> tuple[list[str], np.ndarray]:
        ids = table.column("image_id").to_pylist()
        flat = table.column("embedding").combine_chunks().flatten().to_numpy(zero_copy_only=False)
        if flat.size != len(ids) * self.dim:
            raise FormatError(file, f"row group {group}: vectors are not of dimension {self.dim}")
        vectors = flat.reshape(-1, self.dim)
        bad = ~np.isfinite(vectors).all(axis=1)
        if bad.any():
            raise FormatError(
                file, f"image {ids[int(np.argmax(bad))]!r}: its embedding holds NaN or infinity"
            )
        return ids, vectors

    def matrix(self) -> tuple[list[str], np.ndarray]:
        """Every image id and the ``[N, D]`` matrix, in row order."""
        ids: list[str] = []
        out = np.empty((self.num_rows, self.dim), dtype=np.float32)
        at = 0
        for batch_ids, vectors in self.iter_batches():
            if at + len(batch_ids) > self.num_rows:
                break
            out[at : at + len(batch_ids)] = vectors
            ids.extend(batch_ids)
            at += len(batch_ids)
        else:
            if at == self.num_rows:
                return ids, out
        raise FormatError(
            self.path / MANIFEST, f"lists {self.num_rows} rows but its files hold another count"
        )

    def verify(self) -> None:
        """Every file's checksum against the manifest, now (reading verifies each file before using it)."""
        for file in self.files:
            if isinstance(file, Location):
                if file_sha256(file) != self.files[file]:
                    raise _changed(file)
            else:
                self._verify(file)

    def _verify(self, file: Path) -> None:
        if file not in self._verified:
            if file_sha256(file) != self.files[file]:
                raise _changed(file)
            self._verified.add(file)

    @contextmanager
    def _verified_copy(self, file: Path | Location) -> Iterator[Path]:
        """A local file holding ``file``'s checked bytes: the file itself, or a store's streamed once into
        scratch (hashed on the way) and removed after use."""
        if isinstance(file, Path):
            self._verify(file)
            yield file
            return
        digest = hashlib.sha256()
        with tempfile.NamedTemporaryFile(prefix="rs-clip-embeddings-", suffix=".parquet") as scratch:
            with file.open_stream() as src, file.failing("read it"):
                while block := src.read(8 << 20):
                    digest.update(block)
                    scratch.write(block)
            scratch.flush()
            if digest.hexdigest() != self.files[file]:
                raise _changed(file)
            yield Path(scratch.name)


def _changed(file: Path | Location) -> FormatError:
    return FormatError(file, "sha256 differs from the manifest (changed or damaged)")


def _read_local(root: Path) -> Any:
    mpath = root / MANIFEST
    if not root.is_dir():
        raise FormatError(root, "no such embeddings folder")
    if not mpath.exists():
        raise FormatError(mpath, f"missing: this folder is not an {FORMAT} folder")
    return read_json(mpath)


def _read_stored(root: Location) -> Any:
    return read_manifest(root, MANIFEST, f"{FORMAT} folder", "embeddings folder")


def open_embeddings(path: str | Path | Location) -> Embeddings:
    """An ``rs-clip-embeddings`` folder (or its URI), its manifest checked (see the module docstring)."""
    return Embeddings(path)
