"""Contract 1: the ``rs-dataset`` format (version 1), written and read.

A dataset is a directory holding ``manifest.json`` and Parquet shards named ``<split>-NNNNN.parquet``.
See docs/contracts.md for the full specification; this package is its executable form, one module per
part: :mod:`.schema` (names, versions, the Arrow schema), :mod:`.writer`, :mod:`.manifest`,
:mod:`.reader` and :mod:`.verify`.
"""

from .manifest import read_manifest
from .reader import Dataset, RowGroup, open_dataset
from .schema import (
    DATASET_FORMAT,
    DATASET_VERSION,
    KINDS,
    MANIFEST,
    OBJECT_TYPE,
    READABLE_VERSIONS,
    REQUIRED_COLUMNS,
    dataset_schema,
)
from .verify import verify_dataset
from .writer import DatasetWriter

__all__ = [
    "DATASET_FORMAT",
    "DATASET_VERSION",
    "KINDS",
    "MANIFEST",
    "OBJECT_TYPE",
    "READABLE_VERSIONS",
    "REQUIRED_COLUMNS",
    "Dataset",
    "DatasetWriter",
    "RowGroup",
    "dataset_schema",
    "open_dataset",
    "read_manifest",
    "verify_dataset",
]
