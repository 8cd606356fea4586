"""Writing an ``rs-dataset`` (always the current version, v2): rows streamed into bounded Parquet shards
in ``data/``, published atomically with a manifest beside them that lists every shard's sha256.

Shards are written as ``<split>-NNNNN.parquet`` while their number is unknown and renamed to their
final ``<split>-NNNNN-of-MMMMM.parquet`` in the staging directory, before anything is published.

The target may be a URI (:mod:`rs_formats.location`): the staging directory is then local scratch, and
:mod:`rs_formats.publish` uploads the shards and, last, the manifest.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..atomic import commit_dir, staging_dir
from ..location import Location, path_or_location
from ..publish import check_target, publish
from .checksums import shard_digests
from .schema import DATA_DIR, DATASET_FORMAT, DATASET_VERSION, KINDS, MANIFEST, REQUIRED_COLUMNS, ROW_SCHEMA
from .shards import SHARD_KEY, SPLIT_NAME, shard_name
from .storage import stored_schema, to_stored


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def check_new_dataset(out_dir: str | os.PathLike | Location, overwrite: bool) -> Path | Location:
    """Where a new dataset goes, once it may go there: a local path as a Path, a place in a store as its
    Location. The writer checks this when it starts; a command with work to do before writing (a
    conversion, a selection pass) checks it first, so that a refusal comes before the work.

    Args:
        out_dir: the dataset directory, or its URI.
        overwrite: whether an existing dataset there may be replaced.

    Returns:
        ``out_dir`` as a Path or a Location.

    Raises:
        FileExistsError: something is there and ``overwrite`` is not set (in a store: anything but the
            leftovers of an upload that never wrote its manifest).
        ValueError: a store's URI names a bucket's top, where no dataset goes.
    """
    out = path_or_location(out_dir)
    if isinstance(out, Location):
        check_target(out, overwrite, MANIFEST, DATASET_FORMAT, SHARD_KEY)
    elif out.exists() and not overwrite:
        raise FileExistsError(f"{out}: already exists (pass overwrite=True to replace it)")
    return out


class DatasetWriter:
    """Streams rows into bounded Parquet shards and publishes the dataset atomically.

    Rows are buffered per split only up to one row group, so memory stays bounded whatever the size
    of the dataset. Nothing is visible at ``out_dir`` until :meth:`finish` succeeds; an exception inside
    the ``with`` block (or a killed process) leaves at most a hidden ``.<name>.tmp-*`` directory that no
    reader accepts as a dataset (in a store: at most shards without a manifest).
    """

    def __init__(
        self,
        out_dir: str | Path | Location,
        *,
        name: str,
        kind: str = "captions",
        generator: str = "rs-formats",
        class_names: Sequence[str] | None = None,
        sources: Sequence[Mapping[str, Any]] | None = None,
        max_shard_bytes: int = 256 << 20,
        row_group_rows: int = 256,
        overwrite: bool = False,
    ):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        if kind == "classification" and not class_names:
            raise ValueError("a classification dataset needs class_names")
        self.out_dir = check_new_dataset(out_dir, overwrite)
        self.name = name
        self.kind = kind
        self.generator = generator
        self.class_names = list(class_names) if class_names else None
        self.sources: list[dict[str, Any]] = [dict(s) for s in sources or []]
        self.stats: dict[str, Any] = {}
        self.max_shard_bytes = max_shard_bytes
        self.row_group_rows = row_group_rows
        self.overwrite = overwrite
        self._schema = stored_schema(DATASET_VERSION, self.class_names)
        stored = isinstance(self.out_dir, Location)
        self._tmp = Path(tempfile.mkdtemp(prefix="rs-dataset-")) if stored else staging_dir(self.out_dir)
        (self._tmp / DATA_DIR).mkdir(exist_ok=True)
        self._buffers: dict[str, list[dict[str, Any]]] = {}
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._shard_bytes: dict[str, int] = {}
        self._shards: dict[str, list[str]] = {}
        self._rows: dict[str, int] = {}
        self._ids: set[str] = set()
        self._done = False

    # -- writing -----------------------------------------------------------------------------------
    def write(self, row: Mapping[str, Any], split: str = "train") -> None:
        if self._done:
            raise RuntimeError("the writer is closed")
        image_id = row.get("image_id")
        if not image_id:
            raise ValueError("every row needs a non-empty image_id")
        if split not in self._buffers and not (isinstance(split, str) and SPLIT_NAME.fullmatch(split)):
            raise ValueError(
                f"split name {split!r} must be letters, digits and '_' (with inner '.'s), "
                "as Hugging Face datasets requires"
            )
        if image_id in self._ids:
            raise ValueError(f"duplicate image_id {image_id!r}: ids must be unique within a dataset")
        lacking = next((name for name in REQUIRED_COLUMNS if row.get(name) is None), None)
        if lacking is not None:  # refused here, where the caller still knows where the row came from
            raise ValueError(f"row {image_id!r} has no {lacking!r}")
        self._ids.add(image_id)
        buf = self._buffers.setdefault(split, [])
        buf.append(row)
        if len(buf) >= self.row_group_rows:
            self._flush(split)

    def write_many(self, rows: Iterable[Mapping[str, Any]], split: str = "train") -> None:
        for row in rows:
            self.write(row, split)

    def add_source(self, name: str, license: str = "unknown", n_images: int = 0, **extra: Any) -> None:
        self.sources.append({"name": name, "license": license, "n_images": n_images, **extra})

    def _flush(self, split: str) -> None:
        rows = self._buffers.get(split)
        if not rows:
            return
        columns = {f.name: [r.get(f.name) for r in rows] for f in ROW_SCHEMA}
        try:
            batch = pa.RecordBatch.from_pydict(columns, schema=ROW_SCHEMA)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError) as exc:
            bad = _first_bad_row(rows)
            raise ValueError(f"row {bad!r} does not fit the rs-dataset schema: {exc}") from None
        batch = to_stored(batch, split, self._schema)
        writer = self._writers.get(split)
        if writer is not None and self._shard_bytes[split] + batch.nbytes > self.max_shard_bytes:
            writer.close()
            writer = None
        if writer is None:
            shard = f"{split}-{len(self._shards.setdefault(split, [])):05d}.parquet"
            self._shards[split].append(shard)
            writer = pq.ParquetWriter(
                self._tmp / DATA_DIR / shard, self._schema, compression=_compression(self._schema)
            )
            self._writers[split] = writer
            self._shard_bytes[split] = 0
        writer.write_batch(batch, row_group_size=len(rows))
        self._shard_bytes[split] += batch.nbytes
        self._rows[split] = self._rows.get(split, 0) + len(rows)
        rows.clear()

    # -- publishing --------------------------------------------------------------------------------
    def finish(self) -> Path | Location:
        if self._done:
            return self.out_dir
        for split in list(self._buffers):
            self._flush(split)
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
        splits = {}
        for split, written in sorted(self._shards.items()):
            shards = [shard_name(split, i, len(written)) for i in range(len(written))]
            for old, new in zip(written, shards):
                os.replace(self._tmp / DATA_DIR / old, self._tmp / DATA_DIR / new)
            digests = {s: shard_digests(self._tmp / DATA_DIR / s) for s in shards}
            splits[split] = {
                "shards": shards,
                "rows": self._rows.get(split, 0),
                "sha256": {s: whole for s, (whole, _) in digests.items()},
                "row_group_sha256": {s: groups for s, (_, groups) in digests.items()},
            }
        manifest = {
            "format": DATASET_FORMAT,
            "format_version": DATASET_VERSION,
            "name": self.name,
            "kind": self.kind,
            "created": _now(),
            "generator": self.generator,
            "sources": self.sources,
            "class_names": self.class_names,
            "splits": splits,
            "stats": self.stats,
        }
        (self._tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
        if isinstance(self.out_dir, Location):
            publish(self._tmp, self.out_dir, self.overwrite, MANIFEST, DATASET_FORMAT, SHARD_KEY)
        else:
            commit_dir(self._tmp, self.out_dir, self.overwrite)
        self._done = True
        return self.out_dir

    def abort(self) -> None:
        for writer in self._writers.values():
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - best effort while already failing
                pass
        self._writers.clear()
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._done = True

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                self.finish()
            except BaseException:  # a full disk while flushing: nothing half-written stays behind
                self.abort()
                raise
        else:
            self.abort()


def _leaves(name: str, type_: pa.DataType) -> Iterable[str]:
    """Parquet's column paths of an Arrow column (per-column options are keyed by leaf, not by column)."""
    if pa.types.is_struct(type_):
        for child in type_:
            yield from _leaves(f"{name}.{child.name}", child.type)
    elif pa.types.is_list(type_):
        yield from _leaves(f"{name}.list.element", type_.value_type)
    else:
        yield name


def _compression(schema: pa.Schema) -> dict[str, str]:
    """zstd everywhere but the image bytes: images are already compressed, so Parquet compression would
    only cost CPU on every read."""
    return {
        leaf: "none" if leaf == "image.bytes" else "zstd" for f in schema for leaf in _leaves(f.name, f.type)
    }


def _first_bad_row(rows: list[Mapping[str, Any]]) -> str:
    for row in rows:
        try:
            pa.RecordBatch.from_pylist([{f.name: row.get(f.name) for f in ROW_SCHEMA}], schema=ROW_SCHEMA)
        except Exception:  # noqa: BLE001 - we only want to name the row
            return str(row.get("image_id"))
    return "?"
