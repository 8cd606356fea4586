"""The pHashes of many rs-datasets as one array, read row group by row group, for ``dedup``.

Only the ``phash`` and ``source`` columns are read for every row (8 bytes per row kept, plus the counts per
source); everything else a de-duplication needs (image ids, splits, original sizes) is asked for by
global row number and read only for those rows, one row group at a time. A dataset of ten million rows
therefore costs about 80 MB here instead of its image ids and metadata as Python objects. Rows without a
hash (datasets written before the ``phash`` column was filled) get one computed from their image, which
is read only for the row groups that need it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow.compute as pc

from rs_formats import Dataset
from rs_formats.pixel_limits import decode_image

from .near_duplicates import phash


@dataclass(frozen=True)
class Part:
    """One split of one dataset: its rows are ``offset .. offset + rows - 1`` of the table."""

    dataset: int
    split: str
    offset: int
    rows: int
    group_offsets: np.ndarray  # first row (within the split) of each row group


class HashTable:
    """Global row number -> (dataset, split, row), with every row's hash in ``hashes``."""

    def __init__(self, datasets: Sequence[Dataset], splits: Sequence[str] | None = None):
        self.datasets = list(datasets)
        self.parts: list[Part] = []
        chunks: list[np.ndarray] = []
        self.sources: Counter[str] = Counter()
        offset = 0
        for d, ds in enumerate(self.datasets):
            for split in ds.splits:
                if splits is not None and split not in splits:
                    continue
                sizes = [g.num_rows for g in ds.row_groups(split)]
                part = Part(d, split, offset, sum(sizes), np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64))
                for g in range(len(sizes)):
                    chunks.append(self._group_hashes(ds, part, g))
                self.parts.append(part)
                offset += part.rows
        self.hashes = np.concatenate(chunks) if chunks else np.empty(0, np.uint64)
        self._starts = np.array([p.offset for p in self.parts], dtype=np.int64)

    def __len__(self) -> int:
        return self.hashes.size

    def _group_hashes(self, ds: Dataset, part: Part, g: int) -> np.ndarray:
        table = ds.read_row_group(part.split, g, columns=["phash", "source"])
        for value in pc.value_counts(table.column("source").combine_chunks()).to_pylist():
            self.sources[value["values"]] += value["counts"]
        column = table.column("phash")
        if column.null_count == 0:
            return column.to_numpy().astype(np.uint64, copy=False)
        hashes = column.to_pylist()
        images = ds.read_row_group(part.split, g, columns=["image", "image_id"]).to_pylist()
        for i in (i for i, h in enumerate(hashes) if h is None):
            hashes[i] = _image_hash(ds, part, int(part.group_offsets[g]) + i, images[i])
        return np.array(hashes, dtype=np.uint64)

    def locate(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(part number, row within the part's split) of global rows."""
        rows = np.asarray(rows, dtype=np.int64)
        part = np.searchsorted(self._starts, rows, side="right") - 1
        return part, rows - self._starts[part]

    def rows(self, rows: Sequence[int] | np.ndarray, columns: Sequence[str]) -> list[dict[str, Any]]:
        """``columns`` of the given global rows (in that order), each with its ``dataset`` number, ``split``
        and ``index`` (row within the split); only the row groups holding them are read, each once."""
        rows = np.asarray(rows, dtype=np.int64)
        out: list[dict[str, Any]] = [{} for _ in range(rows.size)]
        part_of, index = self.locate(rows)
        order = np.lexsort((index, part_of))
        for a, b in _runs(part_of[order]):
            part = self.parts[int(part_of[order[a]])]
            ds = self.datasets[part.dataset]
            idx = index[order[a:b]]
            group_of = np.searchsorted(part.group_offsets, idx, side="right") - 1
            for c, e in _runs(group_of):
                g = int(group_of[c])
                table = ds.read_row_group(part.split, g, columns=list(columns))
                picked = table.take(idx[c:e] - part.group_offsets[g]).to_pylist()
                for k, i, row in zip(order[a + c : a + e].tolist(), idx[c:e].tolist(), picked):
                    out[k] = {**row, "dataset": part.dataset, "split": part.split, "index": i}
        return out


def _runs(sorted_keys: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of equal values in a sorted array."""
    bounds = (
        np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1], True]) if sorted_keys.size else []
    )
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist())) if len(bounds) else []


def original_pixels(row: dict[str, Any]) -> int:
    """Pixels of the original image (before any resize), from the row's meta when it says."""
    meta = json.loads(row["meta"]) if row.get("meta") else {}
    w, h = meta.get("original_size") or (row["width"], row["height"])
    return int(w) * int(h)


def _image_hash(ds: Dataset, part: Part, index: int, row: dict[str, Any]) -> int:
    where = f"split {part.split!r}, row {index} ({row['image_id']})"
    return phash(decode_image(row["image"], path=ds.path, row=where))
