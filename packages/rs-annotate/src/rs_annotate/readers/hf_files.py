"""The files of a Hugging Face Parquet dataset on disk, as :mod:`.hf_parquet`'s readers find and read them:
which files, which split each holds, what their ``huggingface`` metadata declares, one row group at a
time, and image bytes decoded under :mod:`rs_formats.pixel_limits`' source pixel limit. Every failure is a
:class:`BadInput` naming the file.
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from rs_formats import FormatError
from rs_formats.dataset import open_parquet
from rs_formats.pixel_limits import MAX_SOURCE_PIXELS
from rs_formats.rasters import read_array

from ..types import BadInput
from .files import as_bad_input

#: The split words of Hugging Face's file patterns (``datasets.data_files.SPLIT_KEYWORDS``).
SPLIT_WORDS = (
    "train",
    "training",
    "validation",
    "valid",
    "val",
    "dev",
    "test",
    "testing",
    "eval",
    "evaluation",
)
#: A split name: what ``datasets`` and rs-dataset accept.
SPLIT_NAME = re.compile(r"\w+(\.\w+)*")
_SHARDED = re.compile(r"(?P<split>\w+(\.\w+)*)-\d{5}-of-\d{5}")
_LEADING_WORD = re.compile(r"[A-Za-z]+")


def parquet_files(root: Path) -> list[Path]:
    """Every ``*.parquet`` below ``root``, hidden folders and files left out, sorted (not yet checked to be
    regular files inside the input: the reader does that)."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [Path(folder) / n for n in files if n.endswith(".parquet") and not n.startswith(".")]
    return sorted(found)


def file_split(rel: Path, forced: str | None) -> str | None:
    """A file's split (``rel``: its path below the dataset root), by :mod:`.hf_parquet`'s rules; None
    when they cannot tell."""
    if forced:
        return forced
    sharded = _SHARDED.fullmatch(rel.stem)
    if sharded:
        return sharded["split"]
    leading = _LEADING_WORD.match(rel.stem)
    for word in (leading[0] if leading else "", *reversed(rel.parent.parts)):
        if word in SPLIT_WORDS:
            return word
    return None


def metadata(path: Path) -> pq.FileMetaData:
    """A Parquet file's footer, its row counts checked against its size (:func:`rs_formats.dataset.open_parquet`)."""
    try:
        return open_parquet(path).metadata
    except FormatError as exc:
        raise BadInput(path, exc.reason) from None


def hf_features(path: Path, schema: pa.Schema) -> dict[str, Any]:
    """The Hugging Face features a Parquet file's metadata declares ({} without any)."""
    raw = (schema.metadata or {}).get(b"huggingface")
    if raw is None:
        return {}
    try:
        features = json.loads(raw)["info"]["features"]
    except (ValueError, RecursionError, KeyError, TypeError):
        raise BadInput(path, "its 'huggingface' metadata holds no features") from None
    if not isinstance(features, dict):
        raise BadInput(path, "its 'huggingface' features are not an object")
    return features


@functools.lru_cache(maxsize=1)
def _row_group(path: str, index: int, columns: tuple[str, ...]) -> pa.Table:
    # Consecutive items share a row group (chunks go to one worker), so each is read once per worker.
    return pq.ParquetFile(path).read_row_group(index, columns=list(columns))


def read_row(path: Path, group: int, row: int, columns: tuple[str, ...]) -> dict[str, Any]:
    """One row's values of ``columns``."""
    try:
        return _row_group(str(path), group, columns).slice(row, 1).to_pylist()[0]
    except (pa.ArrowException, OSError) as exc:
        raise BadInput(path, f"row group {group}, row {row}: unreadable ({exc})") from None


def decode(data: bytes, where: Path, row: str) -> np.ndarray:
    """Encoded image bytes as an HxWxB array of any depth (:func:`rs_formats.rasters.read_array`; the
    conversion makes it 8-bit RGB); a header over ``MAX_SOURCE_PIXELS`` is refused before decoding."""
    with as_bad_input():
        return read_array(data, limit=MAX_SOURCE_PIXELS, name=where, row=row)[0]
