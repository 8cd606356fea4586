"""Verifying an ``rs-dataset`` end to end: every shard's checksum recomputed, every row read.

For v2 also what other Parquet engines rely on and our own reader does not need: ``data/`` holds the
listed shards and nothing else (an engine handed the folder reads every file in it), every row's
``split`` column names the split the manifest lists its shard under, and the class names of each
shard's Hugging Face features are the manifest's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import FormatError
from ..hashing import file_sha256
from ..location import Location
from .reader import Dataset, open_dataset
from .schema import MANIFEST
from .storage import SPLIT_COLUMN, stored_class_names


def verify_dataset(path: str | Path | Location) -> dict[str, Any]:
    """Recompute every shard's checksum and read every row.

    Args:
        path: the dataset directory, or its URI (``s3://bucket/prefix``, :mod:`rs_formats.location`).

    Returns:
        ``{"path", "splits": {split: {"shards", "rows"}}}``. Raises FormatError on the first mismatch.
    """
    ds = open_dataset(path)
    report: dict[str, Any] = {"path": str(ds.path), "splits": {}}
    if ds.version > 1:
        _check_data_dir(ds)
    for split, info in ds.manifest["splits"].items():
        expected = info.get("sha256", {})
        for shard_name in info["shards"]:
            shard = ds.data_dir / shard_name
            want = expected.get(shard_name)
            if want is None:
                raise FormatError(ds.path / MANIFEST, f"no sha256 recorded for shard {shard_name}")
            got = file_sha256(shard)
            if got != want:
                raise FormatError(shard, f"sha256 mismatch: manifest says {want[:12]}…, file is {got[:12]}…")
            if ds.version > 1:
                try:
                    _check_stored(ds, split, shard)
                except pa.ArrowException as exc:
                    raise FormatError(shard, f"unreadable: {exc}") from None
        rows = sum(batch.num_rows for batch in ds.iter_batches(split, columns=["image_id"]))
        report["splits"][split] = {"shards": len(info["shards"]), "rows": rows}
    return report


def _check_data_dir(ds: Dataset) -> None:
    listed = {name for info in ds.manifest["splits"].values() for name in info["shards"]}
    data_dir = ds.data_dir
    names = data_dir.list() if isinstance(data_dir, Location) else [e.name for e in data_dir.iterdir()]
    for name in sorted(names):
        entry = data_dir / name
        if name not in listed:
            raise FormatError(
                entry,
                f"not listed in {ds.path / MANIFEST}: Parquet engines handed "
                f"{ds.data_dir} would read it as part of the dataset",
            )


def _check_stored(ds: Dataset, split: str, shard: Path | Location) -> None:
    pf = ds._parquet(shard)
    names = stored_class_names(shard, pf.schema_arrow)
    if names != ds.class_names and (names or ds.class_names):
        raise FormatError(
            shard, f"its Hugging Face label names {names} are not the manifest's {ds.class_names}"
        )
    for i in range(pf.metadata.num_row_groups):
        column = pf.read_row_group(i, columns=[SPLIT_COLUMN]).column(0)
        wrong = pc.filter(column, pc.not_equal(column, split))
        if len(wrong) or column.null_count:
            said = wrong[0].as_py() if len(wrong) else None
            raise FormatError(
                shard,
                f"row group {i} has rows of split {said!r}, but {ds.path / MANIFEST} "
                f"lists this shard under {split!r}",
            )
