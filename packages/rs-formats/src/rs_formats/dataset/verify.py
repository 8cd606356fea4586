"""Verifying an ``rs-dataset`` end to end: every shard's checksum recomputed, every row read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import FormatError
from ..hashing import file_sha256
from .reader import open_dataset
from .schema import MANIFEST


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
