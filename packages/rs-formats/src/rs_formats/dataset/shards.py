"""Where an ``rs-dataset``'s shards are, and the rules a shard name in a manifest must follow.

A manifest is input a user may have been handed, so its shard names are never trusted as paths
(docs/contracts.md, "Containment"):

- a shard name is a plain file name (a string: no ``/`` or ``\\``, not ``.`` or ``..``, no NUL, valid
  Unicode, at most 255 characters), listed once in the whole manifest; v2 names are exactly
  ``<split>-NNNNN-of-MMMMM.parquet``, numbered from 0 in listing order, the file names by which Hugging
  Face ``datasets`` finds each split;
- the file lies in the dataset's shard folder (the dataset directory for v1, its ``data/`` folder for v2)
  also once symlinks are resolved, and it is a regular file: a FIFO, a device or a link to one is refused
  before it is opened;
- its footer's row counts are believable before any row is listed (:func:`open_parquet`): every row of a
  dataset holds an image and a unique id, so a file declares at most one row per byte of its size (a
  12 KB footer declaring two million rows is corrupt or hostile), and its row groups add up to its total.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import FormatError
from ..inputs import check_regular
from ..location import Location, StorageError
from .schema import DATA_DIR

#: A split name: what Hugging Face ``datasets`` accepts (its ``_split_re``), so that it appears there too.
SPLIT_NAME = re.compile(r"\w+(\.\w+)*")
#: A v2 shard's key under its dataset's prefix: what an upload leaves before its manifest.
SHARD_KEY = re.compile(rf"{DATA_DIR}/{SPLIT_NAME.pattern}-\d{{5}}-of-\d{{5}}\.parquet")
_MAX_NAME = 255


def shard_dir(root: Path | Location, version: int) -> Path | Location:
    """The folder holding a dataset's shards."""
    return root if version == 1 else root / DATA_DIR


def shard_name(split: str, index: int, count: int) -> str:
    """The v2 name of shard ``index`` of a split with ``count`` shards."""
    return f"{split}-{index:05d}-of-{count:05d}.parquet"


def name_problem(name: object) -> str | None:
    """Why ``name`` is not a plain file name (None when it is one)."""
    if not isinstance(name, str):
        return f"is not a string ({type(name).__name__})"
    if not name or name in (".", ".."):
        return "is not a file name"
    if "/" in name or "\\" in name or "\0" in name:
        return "is not a plain file name (it holds '/', '\\' or NUL)"
    if len(name) > _MAX_NAME:
        return f"is longer than {_MAX_NAME} characters"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (it holds a lone surrogate)"
    return None


def split_names_problem(split: str, shards: list[str], version: int) -> str | None:
    """Why a v2 split's shard list does not follow the naming rule (None when it does, and for v1)."""
    if version == 1:
        return None
    if not SPLIT_NAME.fullmatch(split):
        return f"split name {split!r} is not letters, digits and '_' (with inner '.'s)"
    expected = [shard_name(split, i, len(shards)) for i in range(len(shards))]
    if shards != expected:
        wrong = next(s for s, e in zip(shards, expected) if s != e)
        return f"split {split!r} lists shard {wrong!r}: v2 shards are named {expected[0]!r}, ... in order"
    return None


def shard_path(root: Path | Location, version: int, name: str, manifest: Path | Location) -> Path | Location:
    """The path of a listed shard after the containment rules, or FormatError naming it (a store has no
    links and no special files: its shard need only be there)."""
    path = shard_dir(root, version) / name
    if isinstance(path, Location):
        if path.kind() != "file":
            raise FormatError(path, f"missing: listed in {manifest} but not stored")
        return path
    if not path.exists() and not path.is_symlink():
        raise FormatError(path, f"missing: listed in {manifest} but not on disk")
    real = os.path.realpath(path)
    if os.path.commonpath([real, os.path.realpath(root)]) != os.path.realpath(root):
        raise FormatError(path, f"is a symlink to {real}, outside the dataset directory; refusing it")
    check_regular(path)  # a FIFO or a device is never opened
    return path


def open_parquet(path: str | Path | Location, metadata: pq.FileMetaData | None = None) -> pq.ParquetFile:
    """A Parquet file (a local one, or one in a store through its random-access file) with its footer read
    and its row counts checked against its size (module rules); FormatError naming it otherwise. Nothing
    but the footer is read. ``metadata``: the footer as read and checked before, not fetched again."""
    try:
        source = path.open_input() if isinstance(path, Location) else path
        pf = pq.ParquetFile(source, metadata=metadata)
    except StorageError:
        raise
    except (pa.ArrowException, OSError) as exc:
        raise FormatError(path, f"not a readable Parquet file (truncated or corrupt): {exc}") from None
    if metadata is not None:
        return pf
    meta = pf.metadata
    size = source.size() if isinstance(path, Location) else os.path.getsize(path)
    groups = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    if meta.num_rows > size:
        raise FormatError(
            path,
            f"its footer declares {meta.num_rows:,} rows in a file of {size:,} bytes (more than one row a "
            "byte): corrupt or hostile; refusing to list its rows",
        )
    if min(groups, default=0) < 0 or sum(groups) != meta.num_rows:
        raise FormatError(
            path, f"its row groups hold {sum(groups):,} rows but its footer says {meta.num_rows:,}"
        )
    return pf
