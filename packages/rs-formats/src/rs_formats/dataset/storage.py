"""How ``rs-dataset`` v2 stores rows: in the form other Parquet engines read natively, self-described.

Decisions (docs/contracts.md, "What changed from v1"):

- ``image`` is stored as ``struct<bytes: binary, path: string>`` (``path`` null) and ``label`` as
  ``int64``: the storage types of Hugging Face's ``Image`` and ``ClassLabel`` features. ``datasets``
  applies a feature from the ``huggingface`` metadata only when its Arrow type equals the stored column's
  type exactly, nullability included, so ``image`` is a nullable field (the writer still refuses a row
  without one) and ``label`` is 64-bit.
- Every shard repeats its rows' split in a ``split`` column (a constant per shard, dictionary-encoded by
  Parquet to almost nothing): pyarrow.dataset, Polars, DuckDB and Ray Data handed the ``data/`` folder
  see every split as a column; ``datasets`` sees the splits themselves from the file names.
- Every shard's key-value metadata names its format and version (key ``rs-dataset``, a JSON object), and
  holds the Hugging Face features (key ``huggingface``) of the columns whose meaning Arrow types cannot
  carry: ``image`` (an ``Image``) and, when the dataset has class names, ``label`` (a ``ClassLabel`` with
  them). ``datasets`` derives the other columns' features from their Arrow types itself, so the metadata
  holds nothing whose serialisation differs between its releases.

:func:`to_stored` and :func:`to_rows` convert between this form and :data:`~.schema.ROW_SCHEMA`, the rows
every consumer sees; both work on whole Arrow arrays (no per-row Python).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import FormatError
from .schema import DATASET_FORMAT, DATASET_VERSION, REQUIRED_COLUMNS, ROW_SCHEMA

#: Key of a v2 shard's key-value metadata that names its format and version.
FORMAT_KEY = b"rs-dataset"
#: Key under which Hugging Face ``datasets`` reads (and writes) a Parquet file's features.
HF_KEY = b"huggingface"
IMAGE_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
LABEL_TYPE = pa.int64()
SPLIT_COLUMN = "split"

_STORED_TYPES = {"image": IMAGE_TYPE, "label": LABEL_TYPE}


def _stored_field(field: pa.Field) -> pa.Field:
    if field.name in _STORED_TYPES:
        return pa.field(field.name, _STORED_TYPES[field.name], nullable=True)
    return field


def hf_features(class_names: Sequence[str] | None) -> dict[str, Any]:
    """The Hugging Face features (as ``datasets`` serialises them) of the columns Arrow cannot describe."""
    features: dict[str, Any] = {"image": {"_type": "Image"}}
    if class_names:
        features["label"] = {"_type": "ClassLabel", "names": list(class_names)}
    return features


def stored_schema(version: int, class_names: Sequence[str] | None = None) -> pa.Schema:
    """The Arrow schema of a v2 shard, with its key-value metadata (a v1 shard's is :data:`ROW_SCHEMA`)."""
    fields = [_stored_field(f) for f in ROW_SCHEMA] + [pa.field(SPLIT_COLUMN, pa.string(), nullable=False)]
    metadata = {
        FORMAT_KEY: json.dumps({"format": DATASET_FORMAT, "format_version": version}),
        HF_KEY: json.dumps({"info": {"features": hf_features(class_names)}}),
    }
    return pa.schema(fields, metadata=metadata)


#: The v2 schema without metadata: what a shard's columns are checked against.
STORED_COLUMNS = stored_schema(DATASET_VERSION).remove_metadata()


def to_stored(batch: pa.RecordBatch, split: str, schema: pa.Schema) -> pa.RecordBatch:
    """Rows (:data:`ROW_SCHEMA`) in their stored v2 form; ValueError naming the first row lacking a value
    that every row needs."""
    for name in REQUIRED_COLUMNS:
        column = batch.column(name)
        if column.null_count:
            first = pc.index(pc.is_null(column), True).as_py()
            raise ValueError(f"row {batch.column('image_id')[first].as_py()!r} has no {name!r}")
    columns = []
    for field in schema:
        if field.name == SPLIT_COLUMN:
            columns.append(pa.array([split] * batch.num_rows, pa.string()))
        elif field.name == "image":
            image = batch.column("image")
            columns.append(
                pa.StructArray.from_arrays(
                    [image, pa.nulls(len(image), pa.string())], fields=list(IMAGE_TYPE)
                )
            )
        else:
            columns.append(batch.column(field.name).cast(field.type))
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def to_rows(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Stored v2 columns (any subset) as the rows every consumer sees: ``image`` as its encoded bytes,
    ``label`` as int32, no ``split`` column. Raises ``pa.ArrowInvalid`` for a label beyond int32."""
    arrays, fields = [], []
    for name, column in zip(batch.schema.names, batch.columns):
        if name == SPLIT_COLUMN:
            continue
        if name == "image":
            column = pc.struct_field(column, "bytes")
        elif name == "label":
            column = column.cast(pa.int32())
        index = ROW_SCHEMA.get_field_index(name)
        arrays.append(column)
        fields.append(ROW_SCHEMA.field(index) if index >= 0 else batch.schema.field(name))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def stored_version(shard: Path, schema: pa.Schema) -> int:
    """The format version a v2 shard's own metadata states; FormatError naming the shard otherwise."""
    raw = (schema.metadata or {}).get(FORMAT_KEY)
    if raw is None:
        raise FormatError(
            shard, f"its key-value metadata does not name its format (no {FORMAT_KEY.decode()!r} key)"
        )
    try:
        stated = json.loads(raw)
    except (ValueError, RecursionError):
        stated = None
    if not isinstance(stated, dict) or stated.get("format") != DATASET_FORMAT:
        raise FormatError(
            shard, f"its {FORMAT_KEY.decode()!r} metadata does not describe an {DATASET_FORMAT} shard"
        )
    version = stated.get("format_version")
    if type(version) is not int:
        raise FormatError(shard, f"its {FORMAT_KEY.decode()!r} metadata has no integer format_version")
    return version


def stored_class_names(shard: Path, schema: pa.Schema) -> list[str] | None:
    """The class names of a shard's Hugging Face ``label`` feature (None without one)."""
    try:
        features = json.loads((schema.metadata or {}).get(HF_KEY, b"{}"))["info"]["features"]
        label = features.get("label") or {}
    except (ValueError, RecursionError, KeyError, TypeError, AttributeError):
        raise FormatError(shard, f"its {HF_KEY.decode()!r} metadata is not Hugging Face features") from None
    return label.get("names") if isinstance(label, dict) and label.get("_type") == "ClassLabel" else None
