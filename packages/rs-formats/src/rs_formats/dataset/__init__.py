"""Contract 1: the ``rs-dataset`` format, written (version 2) and read (versions 1 and 2).

A v2 dataset is a directory holding ``manifest.json`` and a ``data/`` folder of Parquet shards named
``<split>-NNNNN-of-MMMMM.parquet``, which pyarrow, Polars, DuckDB, Hugging Face ``datasets`` and Ray Data
read as they are; v1 kept shards ``<split>-NNNNN.parquet`` beside the manifest. See docs/contracts.md for
the full specification; this package is its executable form, one module per part: :mod:`.schema` (names,
versions, the rows' Arrow schema), :mod:`.storage` (v2's stored form), :mod:`.shards` (where shards are,
and the rules their names follow), :mod:`.checksums` (a shard's and each row group's), :mod:`.writer`,
:mod:`.manifest`, :mod:`.reader` and :mod:`.verify`.
A dataset is a directory or a prefix in a store (:mod:`rs_formats.location`; published there by
:mod:`rs_formats.publish`).
"""

from .manifest import read_manifest
from .reader import Dataset, RowGroup, open_dataset
from .schema import (
    DATA_DIR,
    DATASET_FORMAT,
    DATASET_VERSION,
    KINDS,
    MANIFEST,
    OBJECT_TYPE,
    READABLE_VERSIONS,
    REQUIRED_COLUMNS,
    dataset_schema,
)
from .shards import open_parquet
from .verify import verify_dataset
from .writer import DatasetWriter, check_new_dataset

__all__ = [
    "DATA_DIR",
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
    "check_new_dataset",
    "dataset_schema",
    "open_dataset",
    "open_parquet",
    "read_manifest",
    "verify_dataset",
]
