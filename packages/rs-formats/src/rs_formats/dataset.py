"""Contract 1: the ``rs-dataset`` format (version 1), written and read.

A dataset is a directory holding ``manifest.json`` and Parquet shards named ``<split>-NNNNN.parquet``.
See docs/contracts.md for the full specification; this module is its executable form.
"""

from __future__ import annotations

import datetime as _dt
import json
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .atomic import commit_dir, staging_dir
from .errors import FormatError
from .hashing import file_sha256

DATASET_FORMAT = "rs-dataset"
DATASET_VERSION = 1
#: Versions this release can read. A new version adds a reader here and keeps the old ones.
READABLE_VERSIONS = (1,)
KINDS = ("captions", "classification", "counting")
MANIFEST = "manifest.json"

OBJECT_TYPE = pa.struct(
    [
        ("label", pa.string()),
        ("x0", pa.float32()),
        ("y0", pa.float32()),
        ("x1", pa.float32()),
        ("y1", pa.float32()),
        ("difficult", pa.bool_()),
    ]
)

_SCHEMA_V1 = pa.schema(
    [
        pa.field("image_id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("image", pa.binary(), nullable=False),
        pa.field("width", pa.int32(), nullable=False),
        pa.field("height", pa.int32(), nullable=False),
        pa.field("captions", pa.list_(pa.string())),
        pa.field("objects", pa.list_(OBJECT_TYPE)),
        pa.field("label", pa.int32()),
        pa.field("count", pa.int32()),
        pa.field("count_label", pa.string()),
        pa.field("phash", pa.uint64()),
        # Free-form JSON per row (original file name, tile origin, ...): provenance, never needed to train.
        pa.field("meta", pa.string()),
    ]
)
REQUIRED_COLUMNS = ("image_id", "source", "image", "width", "height")


def dataset_schema() -> pa.Schema:
    """The Arrow schema of every shard of an rs-dataset v1."""
    return _SCHEMA_V1


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


class DatasetWriter:
    """Streams rows into bounded Parquet shards and publishes the dataset atomically.

    Rows are buffered per split only up to one row group, so memory stays bounded whatever the size
    of the dataset. Nothing is visible at ``out_dir`` until :meth:`finish` succeeds; an exception inside
    the ``with`` block (or a killed process) leaves at most a hidden ``.<name>.tmp-*`` directory that no
    reader accepts as a dataset.
    """

    def __init__(
        self,
        out_dir: str | Path,
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
        self.out_dir = Path(out_dir)
        if self.out_dir.exists() and not overwrite:
            raise FileExistsError(f"{self.out_dir}: already exists (pass overwrite=True to replace it)")
        self.name = name
        self.kind = kind
        self.generator = generator
        self.class_names = list(class_names) if class_names else None
        self.sources: list[dict[str, Any]] = [dict(s) for s in sources or []]
        self.stats: dict[str, Any] = {}
        self.max_shard_bytes = max_shard_bytes
        self.row_group_rows = row_group_rows
        self.overwrite = overwrite
        self._tmp = staging_dir(self.out_dir)
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
        if image_id in self._ids:
            raise ValueError(f"duplicate image_id {image_id!r}: ids must be unique within a dataset")
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
        columns = {f.name: [r.get(f.name) for r in rows] for f in _SCHEMA_V1}
        try:
            batch = pa.RecordBatch.from_pydict(columns, schema=_SCHEMA_V1)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError) as exc:
            bad = _first_bad_row(rows)
            raise ValueError(f"row {bad!r} does not fit the rs-dataset v1 schema: {exc}") from None
        writer = self._writers.get(split)
        if writer is not None and self._shard_bytes[split] + batch.nbytes > self.max_shard_bytes:
            writer.close()
            writer = None
        if writer is None:
            shard = f"{split}-{len(self._shards.setdefault(split, [])):05d}.parquet"
            self._shards[split].append(shard)
            # Images are already compressed: Parquet compression would only cost CPU on every read.
            writer = pq.ParquetWriter(
                self._tmp / shard,
                _SCHEMA_V1,
                compression={"image": "none"} | {f.name: "zstd" for f in _SCHEMA_V1 if f.name != "image"},
            )
            self._writers[split] = writer
            self._shard_bytes[split] = 0
        writer.write_batch(batch, row_group_size=len(rows))
        self._shard_bytes[split] += batch.nbytes
        self._rows[split] = self._rows.get(split, 0) + len(rows)
        rows.clear()

    # -- publishing --------------------------------------------------------------------------------
    def finish(self) -> Path:
        if self._done:
            return self.out_dir
        for split in list(self._buffers):
            self._flush(split)
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
        splits = {
            split: {
                "shards": shards,
                "rows": self._rows.get(split, 0),
                "sha256": {s: file_sha256(self._tmp / s) for s in shards},
            }
            for split, shards in sorted(self._shards.items())
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
            self.finish()
        else:
            self.abort()


def _first_bad_row(rows: list[Mapping[str, Any]]) -> str:
    for row in rows:
        try:
            pa.RecordBatch.from_pylist([{f.name: row.get(f.name) for f in _SCHEMA_V1}], schema=_SCHEMA_V1)
        except Exception:  # noqa: BLE001 - we only want to name the row
            return str(row.get("image_id"))
    return "?"


# ---------------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------------


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Load and validate a dataset manifest (format, version, kind, splits); FormatError otherwise."""
    root = Path(path)
    mpath = root / MANIFEST
    if not root.exists():
        raise FormatError(root, "no such dataset directory")
    if not mpath.is_file():
        raise FormatError(mpath, "missing: this directory is not an rs-dataset (no manifest.json)")
    try:
        manifest = json.loads(mpath.read_text())
    except json.JSONDecodeError as exc:
        raise FormatError(mpath, f"not valid JSON ({exc.msg}, column {exc.colno})", line=exc.lineno) from None
    except UnicodeDecodeError:
        raise FormatError(mpath, "not a text file") from None
    if not isinstance(manifest, dict):
        raise FormatError(mpath, "must hold a JSON object")
    fmt = manifest.get("format")
    if fmt != DATASET_FORMAT:
        raise FormatError(mpath, f"format is {fmt!r}, expected {DATASET_FORMAT!r}")
    version = manifest.get("format_version")
    if version not in READABLE_VERSIONS:
        raise FormatError(
            mpath,
            f"format_version {version!r} is not supported by this rs-formats "
            f"(reads {', '.join(map(str, READABLE_VERSIONS))}); upgrade rs-formats to read it",
        )
    if manifest.get("kind") not in KINDS:
        raise FormatError(mpath, f"kind {manifest.get('kind')!r} is not one of {KINDS}")
    splits = manifest.get("splits")
    if not isinstance(splits, dict):
        raise FormatError(mpath, "'splits' must map split names to their shards")
    for split, info in splits.items():
        if not isinstance(info, dict) or not isinstance(info.get("shards"), list):
            raise FormatError(mpath, f"split {split!r} has no 'shards' list")
    return manifest


def _check_schema(shard: Path, schema: pa.Schema) -> None:
    for name in REQUIRED_COLUMNS:
        if schema.get_field_index(name) < 0:
            raise FormatError(shard, f"column {name!r} is missing (rs-dataset v1 requires {REQUIRED_COLUMNS})")
    for field in _SCHEMA_V1:
        idx = schema.get_field_index(field.name)
        if idx >= 0 and not schema.field(idx).type.equals(field.type):
            raise FormatError(
                shard, f"column {field.name!r} has type {schema.field(idx).type}, expected {field.type}"
            )


@dataclass(frozen=True)
class RowGroup:
    shard: Path
    index: int
    num_rows: int


class Dataset:
    """A validated, opened rs-dataset. Cheap to open: only footers are read."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.manifest = read_manifest(self.path)
        self._row_groups: dict[str, list[RowGroup]] = {}
        for split, info in self.manifest["splits"].items():
            groups: list[RowGroup] = []
            n_rows = 0
            for shard_name in info["shards"]:
                shard = self.path / shard_name
                if not shard.is_file():
                    raise FormatError(shard, f"missing: listed in {self.path / MANIFEST} but not on disk")
                meta = self._parquet(shard).metadata
                _check_schema(shard, meta.schema.to_arrow_schema())
                for i in range(meta.num_row_groups):
                    groups.append(RowGroup(shard, i, meta.row_group(i).num_rows))
                n_rows += meta.num_rows
            if "rows" in info and info["rows"] != n_rows:
                raise FormatError(
                    self.path / MANIFEST, f"split {split!r} lists {info['rows']} rows but its shards hold {n_rows}"
                )
            self._row_groups[split] = groups

    @staticmethod
    def _parquet(shard: Path) -> pq.ParquetFile:
        try:
            return pq.ParquetFile(shard)
        except (pa.ArrowException, OSError) as exc:
            raise FormatError(shard, f"not a readable Parquet file (truncated or corrupt): {exc}") from None

    # -- metadata ----------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.manifest.get("name", self.path.name)

    @property
    def kind(self) -> str:
        return self.manifest["kind"]

    @property
    def class_names(self) -> list[str] | None:
        return self.manifest.get("class_names")

    @property
    def splits(self) -> list[str]:
        return list(self._row_groups)

    def num_rows(self, split: str = "train") -> int:
        return sum(g.num_rows for g in self._groups(split))

    def manifest_sha256(self) -> str:
        """Identifies this exact dataset (its manifest lists every shard's checksum)."""
        return file_sha256(self.path / MANIFEST)

    def _groups(self, split: str) -> list[RowGroup]:
        if split not in self._row_groups:
            raise FormatError(self.path / MANIFEST, f"has no split {split!r} (splits: {self.splits})")
        return self._row_groups[split]

    def row_groups(self, split: str = "train") -> list[RowGroup]:
        return list(self._groups(split))

    # -- data --------------------------------------------------------------------------------------
    def iter_batches(
        self,
        split: str = "train",
        columns: Sequence[str] | None = None,
        batch_size: int = 256,
        shard_index: int = 0,
        num_shards: int = 1,
    ) -> Iterator[pa.RecordBatch]:
        """Record batches of one split, in a stable order, with memory bounded by one row group.

        With ``num_shards=N`` row groups are dealt round-robin, so N readers (training workers) each
        read a disjoint part and together read every row exactly once.
        """
        if not 0 <= shard_index < num_shards:
            raise ValueError(f"shard_index must be in [0, {num_shards}), got {shard_index}")
        mine = self._groups(split)[shard_index::num_shards]
        open_files: dict[Path, pq.ParquetFile] = {}
        for group in mine:
            pf = open_files.get(group.shard)
            if pf is None:
                open_files.clear()  # shards are read in order: keep one file open at a time
                pf = open_files[group.shard] = self._parquet(group.shard)
            try:
                yield from pf.iter_batches(batch_size=batch_size, row_groups=[group.index], columns=columns)
            except pa.ArrowException as exc:
                raise FormatError(group.shard, f"row group {group.index} is unreadable: {exc}") from None

    def read_row_group(self, split: str, index: int, columns: Sequence[str] | None = None) -> pa.Table:
        """Row group ``index`` of :meth:`row_groups` (the unit of reading) as a table: for readers that
        partition or sample a split themselves (training workers, contact sheets)."""
        group = self._groups(split)[index]
        try:
            return self._parquet(group.shard).read_row_group(group.index, columns=columns)
        except pa.ArrowException as exc:
            raise FormatError(group.shard, f"row group {group.index} is unreadable: {exc}") from None

    def iter_rows(
        self,
        split: str = "train",
        columns: Sequence[str] | None = None,
        shard_index: int = 0,
        num_shards: int = 1,
    ) -> Iterator[dict[str, Any]]:
        for batch in self.iter_batches(split, columns, shard_index=shard_index, num_shards=num_shards):
            yield from batch.to_pylist()

    def read_table(self, split: str = "train", columns: Sequence[str] | None = None) -> pa.Table:
        batches = list(self.iter_batches(split, columns))
        if not batches:
            schema = _SCHEMA_V1 if columns is None else pa.schema([_SCHEMA_V1.field(c) for c in columns])
            return schema.empty_table()
        return pa.Table.from_batches(batches)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{s}={self.num_rows(s)}" for s in self.splits)
        return f"Dataset({self.path}, kind={self.kind}, {sizes})"


def open_dataset(path: str | Path) -> Dataset:
    """Open and validate an rs-dataset directory; raises :class:`FormatError` naming the bad file."""
    return Dataset(path)


def verify_dataset(path: str | Path) -> dict[str, Any]:
    """Recompute every shard's checksum and read every row; FormatError on the first mismatch."""
    ds = open_dataset(path)
    report: dict[str, Any] = {"path": str(ds.path), "splits": {}}
    for split, info in ds.manifest["splits"].items():
        expected = info.get("sha256", {})
        for shard_name in info["shards"]:
            shard = ds.path / shard_name
            want = expected.get(shard_name)
            if want is None:
                raise FormatError(ds.path / MANIFEST, f"no sha256 recorded for shard {shard_name}")
            got = file_sha256(shard)
            if got != want:
                raise FormatError(shard, f"sha256 mismatch: manifest says {want[:12]}…, file is {got[:12]}…")
        rows = sum(batch.num_rows for batch in ds.iter_batches(split, columns=["image_id"]))
        report["splits"][split] = {"shards": len(info["shards"]), "rows": rows}
    return report
