"""What an ``rs-dataset`` v1 is made of: its names, its manifest's constants and the Arrow schema of
every shard (docs/contracts.md, "Contract 1"), with the check a shard's own schema must pass."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from ..errors import FormatError

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

SCHEMA_V1 = pa.schema(
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
    return SCHEMA_V1


def check_shard_schema(shard: Path, schema: pa.Schema) -> None:
    """A shard holds every required column, and every column it holds has its v1 type."""
    for name in REQUIRED_COLUMNS:
        if schema.get_field_index(name) < 0:
            raise FormatError(
                shard, f"column {name!r} is missing (rs-dataset v1 requires {REQUIRED_COLUMNS})"
            )
    for field in SCHEMA_V1:
        idx = schema.get_field_index(field.name)
        if idx >= 0 and not schema.field(idx).type.equals(field.type):
            raise FormatError(
                shard, f"column {field.name!r} has type {schema.field(idx).type}, expected {field.type}"
            )
