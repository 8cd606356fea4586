"""Reading an ``rs-dataset``: :class:`Dataset` validates the manifest and every shard's footer on opening,
then reads by row group (the unit of reading), with memory bounded by one row group.

A dataset is a local folder or a prefix in a store (any URI :mod:`rs_formats.location` resolves): a
store's shards are read through pyarrow's random-access files, so opening fetches the manifest and the
footers, and reading a row group fetches that row group's bytes, never a whole shard or dataset. Where the
manifest has a row group's checksum, the row group is checked as it is read (:mod:`.checksums`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import FormatError
from ..hashing import file_sha256
from ..location import Location, path_or_location
from .checksums import verified_group
from .manifest import read_manifest
from .schema import MANIFEST, ROW_SCHEMA, check_shard_schema
from .shards import open_parquet, shard_dir, shard_path
from .storage import SPLIT_COLUMN, STORED_COLUMNS, stored_version, to_rows


@dataclass(frozen=True)
class RowGroup:
    shard: Path | Location
    index: int
    num_rows: int


class Dataset:
    """A validated, opened rs-dataset of any readable version. Cheap to open: only footers are read.

    Rows look the same whatever the version on disk (:data:`~.schema.ROW_SCHEMA`): a v2 shard's stored
    form (:mod:`.storage`) is turned back into it batch by batch.
    """

    def __init__(self, path: str | Path | Location):
        self.path = path_or_location(path)
        self.manifest = read_manifest(self.path)
        self.version: int = self.manifest["format_version"]
        self._row_groups: dict[str, list[RowGroup]] = {}
        self._footers: dict[Path | Location, pq.FileMetaData] = {}
        self._digests: dict[Path | Location, list[str]] = {}
        for split, info in self.manifest["splits"].items():
            groups: list[RowGroup] = []
            n_rows = 0
            for shard_name in info["shards"]:
                shard = shard_path(self.path, self.version, shard_name, self.path / MANIFEST)
                meta = self._footers[shard] = self._parquet(shard).metadata
                self._check_shard(shard, meta.schema.to_arrow_schema())
                digests = info.get("row_group_sha256", {}).get(shard_name)
                if digests is not None and len(digests) != meta.num_row_groups:
                    raise FormatError(
                        self.path / MANIFEST,
                        f"lists {len(digests)} row-group checksums for {shard_name}, "
                        f"which has {meta.num_row_groups} row groups",
                    )
                if digests is not None:
                    self._digests[shard] = digests
                for i in range(meta.num_row_groups):
                    groups.append(RowGroup(shard, i, meta.row_group(i).num_rows))
                n_rows += meta.num_rows
            if "rows" in info and info["rows"] != n_rows:
                raise FormatError(
                    self.path / MANIFEST,
                    f"split {split!r} lists {info['rows']} rows but its shards hold {n_rows}",
                )
            self._row_groups[split] = groups

    def _check_shard(self, shard: Path, schema: pa.Schema) -> None:
        if self.version == 1:
            check_shard_schema(shard, schema, ROW_SCHEMA, 1)
            return
        stated = stored_version(shard, schema)
        if stated != self.version:
            raise FormatError(
                shard,
                f"its metadata says format_version {stated}, but {self.path / MANIFEST} says {self.version}",
            )
        check_shard_schema(shard, schema, STORED_COLUMNS, self.version)

    @property
    def data_dir(self) -> Path | Location:
        """The folder holding the shards: for v2 the one to hand to other Parquet engines."""
        return shard_dir(self.path, self.version)

    def _parquet(self, shard: Path | Location) -> pq.ParquetFile:
        """A shard opened for reading; its footer, read and checked on opening the dataset, is not fetched
        again."""
        return open_parquet(shard, self._footers.get(shard))

    @staticmethod
    def _open(shard: Path | Location) -> Any:
        """A shard's random-access file."""
        if isinstance(shard, Location):
            return shard.open_input()
        try:
            return pa.OSFile(str(shard))
        except OSError as exc:
            raise FormatError(shard, f"cannot read: {exc}") from None

    def _group_file(self, group: RowGroup, source: Any) -> pq.ParquetFile:
        """The shard, ready to read ``group``: checked against the manifest where it has its checksum."""
        meta = self._footers[group.shard]
        digests = self._digests.get(group.shard)
        if digests is None:
            return pq.ParquetFile(source, metadata=meta)
        return verified_group(group.shard, source, meta, group.index, digests[group.index])

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
        open_files: dict[Path | Location, Any] = {}
        for group in mine:
            source = open_files.get(group.shard)
            if source is None:
                open_files.clear()  # shards are read in order: keep one file open at a time
                source = open_files[group.shard] = self._open(group.shard)
            with self._reading(group):
                pf = self._group_file(group, source)
                for batch in pf.iter_batches(
                    batch_size=batch_size, row_groups=[group.index], columns=self._stored_columns(pf, columns)
                ):
                    yield self._rows(batch)

    def read_row_group(self, split: str, index: int, columns: Sequence[str] | None = None) -> pa.Table:
        """Row group ``index`` of :meth:`row_groups` (the unit of reading) as a table: for readers that
        partition or sample a split themselves (training workers, contact sheets)."""
        group = self._groups(split)[index]
        with self._reading(group), self._open(group.shard) as source:
            pf = self._group_file(group, source)
            table = pf.read_row_group(group.index, columns=self._stored_columns(pf, columns))
            if self.version == 1:
                return table
            batches = [self._rows(b) for b in table.to_batches()]
            return pa.Table.from_batches(batches) if batches else self._empty(columns)

    def _stored_columns(self, pf: pq.ParquetFile, columns: Sequence[str] | None) -> list[str] | None:
        if self.version == 1 or columns is not None:
            return None if columns is None else list(columns)
        return [name for name in pf.schema_arrow.names if name != SPLIT_COLUMN]

    def _rows(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        return batch if self.version == 1 else to_rows(batch)

    @contextmanager
    def _reading(self, group: RowGroup) -> Iterator[None]:
        try:
            yield
        except pa.ArrowException as exc:
            raise FormatError(group.shard, f"row group {group.index} is unreadable: {exc}") from None

    @staticmethod
    def _empty(columns: Sequence[str] | None) -> pa.Table:
        schema = ROW_SCHEMA if columns is None else pa.schema([ROW_SCHEMA.field(c) for c in columns])
        return schema.empty_table()

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
        return pa.Table.from_batches(batches) if batches else self._empty(columns)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{s}={self.num_rows(s)}" for s in self.splits)
        return f"Dataset({self.path}, kind={self.kind}, {sizes})"


def open_dataset(path: str | Path | Location) -> Dataset:
    """Open and validate an rs-dataset directory or stored prefix (its manifest and shard list; rows are
    read on demand).

    Args:
        path: the dataset directory, or its URI (``s3://bucket/prefix``, :mod:`rs_formats.location`).

    Returns:
        The :class:`Dataset`. Raises :class:`FormatError` naming the bad file
        (:class:`~rs_formats.location.StorageError` for a store's failure).
    """
    return Dataset(path)
