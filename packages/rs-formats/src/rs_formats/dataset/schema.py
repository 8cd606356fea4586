"""What an ``rs-dataset`` is made of: its names, its manifest's constants, the rows every reader presents
and the check a shard's own schema must pass (docs/contracts.md, "Contract 1").

Rows look the same to every consumer whatever the version on disk: :data:`ROW_SCHEMA`, which is also how
v1 stores them. v2 stores them in the form other Parquet engines read natively (:mod:`.storage`); the
reader turns that back into :data:`ROW_SCHEMA`.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from ..errors import FormatError

DATASET_FORMAT = "rs-dataset"
DATASET_VERSION = 2
#: Versions this release can read. A new version adds a reader here and keeps the old ones.
READABLE_VERSIONS = (1, 2)
KINDS = ("captions", "classification", "counting")
MANIFEST = "manifest.json"
#: Where v2 keeps its shards, beside (not among) the manifest: the folder handed to other Parquet engines.
DATA_DIR = "data"

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

ROW_SCHEMA = pa.schema(
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
    """The Arrow schema of the rows every reader presents (for every version; v1 also stores them so)."""
    return ROW_SCHEMA


def check_shard_schema(shard: Path, schema: pa.Schema, expected: pa.Schema, version: int) -> None:
    """A shard holds every required column, and every column it holds has the type ``expected`` gives it."""
    required = (*REQUIRED_COLUMNS, *(n for n in expected.names if n not in ROW_SCHEMA.names))
    for name in required:
        if schema.get_field_index(name) < 0:
            raise FormatError(
                shard, f"column {name!r} is missing (rs-dataset v{version} requires {required})"
            )
    for field in expected:
        idx = schema.get_field_index(field.name)
        if idx >= 0 and not schema.field(idx).type.equals(field.type):
            raise FormatError(
                shard, f"column {field.name!r} has type {schema.field(idx).type}, expected {field.type}"
            )
