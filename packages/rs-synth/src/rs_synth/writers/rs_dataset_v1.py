"""``rs-dataset`` v1, the layout rs-formats 0.1 wrote: shards ``<split>-NNNNN.parquet`` beside
``manifest.json`` (no ``data/`` folder), rows stored exactly as readers present them (``image`` as
binary, ``label`` as int32), no format metadata in the shards.

rs-formats writes only the current version; readers must keep reading v1 (the contract's evolution
rule), so tests need v1 datasets: :func:`write_v1` re-lays any readable dataset out as v1, row groups
and order kept. Written independently of rs-formats' writer, from docs/contracts.md's v1 section.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from rs_formats import dataset_schema, open_dataset
from rs_formats.hashing import file_sha256

from ._base import atomic_output


def write_v1(src: str | Path, out_dir: str | Path, overwrite: bool = False) -> Path:
    """The dataset at ``src`` (any version rs-formats reads) as an rs-dataset v1 at ``out_dir``."""
    ds = open_dataset(src)
    schema = dataset_schema()
    with atomic_output(out_dir, overwrite) as tmp:
        splits = {}
        for split in ds.splits:
            shard = f"{split}-00000.parquet"
            with pq.ParquetWriter(tmp / shard, schema) as writer:
                for index in range(len(ds.row_groups(split))):
                    writer.write_table(ds.read_row_group(split, index).select(schema.names).cast(schema))
            splits[split] = {
                "shards": [shard],
                "rows": ds.num_rows(split),
                "sha256": {shard: file_sha256(tmp / shard)},
            }
        manifest = {**ds.manifest, "format_version": 1, "splits": splits}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return Path(out_dir)
