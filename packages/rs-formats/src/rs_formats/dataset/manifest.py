"""Reading and validating an ``rs-dataset``'s ``manifest.json``: the first thing every reader checks.

A manifest may come from anyone, so it is read as every user file is (:mod:`rs_formats.inputs`: a regular
file, UTF-8, JSON of bounded depth) and every value is checked for its type before it is used: whatever
the file holds (bytes that are not JSON, JSON nested thousands deep, a number where a string belongs), the
outcome is a valid manifest or one :class:`FormatError` naming ``manifest.json``, never a traceback from
here or from a consumer that trusts a field later. Shard names follow :mod:`.shards`' rules.

In a store (:mod:`rs_formats.location`) the manifest is the commit point of a publication, written after
every shard: a prefix without one is not a dataset, whatever it holds (perhaps a write that never
finished), and is refused saying so.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import FormatError
from ..inputs import check_inside, check_regular, read_json
from ..location import Location, path_or_location
from ..publish import read_manifest as read_manifest_at
from .schema import DATASET_FORMAT, KINDS, MANIFEST, READABLE_VERSIONS
from .shards import name_problem, split_names_problem

_SHA256 = re.compile(r"[0-9a-f]{64}")


def _what(value: Any) -> str:
    """A value for an error message: short, and safe for any JSON value (no deep repr)."""
    if isinstance(value, (dict, list)):
        return f"a JSON {'object' if isinstance(value, dict) else 'array'}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _load(mpath: Path) -> Any:
    """The manifest's JSON value: a regular UTF-8 file of bounded depth (:mod:`rs_formats.inputs`' rules)."""
    if not mpath.exists() and not mpath.is_symlink():
        raise FormatError(mpath, "missing: this directory is not an rs-dataset (no manifest.json)")
    check_regular(mpath)
    return read_json(check_inside(mpath.parent, mpath, hint=None))  # a dataset's files stay inside it


def _load_stored(root: Location) -> Any:
    return read_manifest_at(root, MANIFEST, "rs-dataset", "dataset")


def read_manifest(path: str | Path | Location) -> dict[str, Any]:
    """Load and validate a dataset manifest (format, version, kind, splits, shard names, and the type of
    every field consumers read).

    Args:
        path: the dataset directory, or its URI (``s3://bucket/prefix``, :mod:`rs_formats.location`).

    Returns:
        The manifest as a dict. Raises FormatError naming ``manifest.json`` when it breaks the contract
        (:class:`~rs_formats.location.StorageError` for a store's failure).
    """
    root = path_or_location(path)
    mpath = root / MANIFEST
    if isinstance(root, Location):
        manifest = _load_stored(root)
    elif not root.exists():
        raise FormatError(root, "no such dataset directory")
    else:
        manifest = _load(mpath)
    try:
        _check(manifest)
    except _Invalid as exc:
        raise FormatError(mpath, str(exc)) from None
    return manifest


class _Invalid(Exception):
    """A rule of the manifest broken (the message says which); :func:`read_manifest` names the file."""


def _check(manifest: Any) -> None:
    if not isinstance(manifest, dict):
        raise _Invalid("must hold a JSON object")
    fmt = manifest.get("format")
    if fmt != DATASET_FORMAT:
        raise _Invalid(f"format is {_what(fmt)}, expected {DATASET_FORMAT!r}")
    version = manifest.get("format_version")
    if not _is_int(version) or version not in READABLE_VERSIONS:
        raise _Invalid(
            f"format_version {_what(version)} is not supported by this rs-formats "
            f"(reads {', '.join(map(str, READABLE_VERSIONS))}); upgrade rs-formats to read it"
        )
    kind = manifest.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise _Invalid(f"kind {_what(kind)} is not one of {KINDS}")
    for key in ("name", "created", "generator"):
        if key in manifest and not isinstance(manifest[key], str):
            raise _Invalid(f"{key!r} is {_what(manifest[key])}, expected a string")
    names = manifest.get("class_names")
    if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        raise _Invalid("'class_names' must be a list of strings, or null")
    sources = manifest.get("sources", [])
    if not isinstance(sources, list) or not all(
        isinstance(s, dict) and isinstance(s.get("name", ""), str) for s in sources
    ):
        raise _Invalid("'sources' must be a list of objects, each with a string 'name'")
    if not isinstance(manifest.get("stats", {}), dict):
        raise _Invalid("'stats' must be a JSON object")
    splits = manifest.get("splits")
    if not isinstance(splits, dict):
        raise _Invalid("'splits' must map split names to their shards")
    seen: set[str] = set()
    for split, info in splits.items():
        _check_split(split, info, version, seen)


def _check_split(split: str, info: Any, version: int, seen: set[str]) -> None:
    if not isinstance(info, dict) or not isinstance(info.get("shards"), list):
        raise _Invalid(f"split {split!r} has no 'shards' list")
    shards = info["shards"]
    for name in shards:
        problem = name_problem(name)
        if problem:
            raise _Invalid(f"split {split!r}: shard {_what(name)} {problem}")
        if name in seen:
            raise _Invalid(f"shard {name!r} is listed more than once")
        seen.add(name)
    problem = split_names_problem(split, shards, version)
    if problem:
        raise _Invalid(problem)
    rows = info.get("rows", 0)
    if not _is_int(rows) or rows < 0:
        raise _Invalid(f"split {split!r}: 'rows' is {_what(rows)}, expected a non-negative integer")
    sha = info.get("sha256", {})
    if not isinstance(sha, dict):
        raise _Invalid(f"split {split!r}: 'sha256' must map shard names to hex digests")
    for name, digest in sha.items():
        if name not in shards:
            raise _Invalid(f"split {split!r}: 'sha256' names {name!r}, which is not one of its shards")
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise _Invalid(f"split {split!r}: the sha256 of {name!r} is {_what(digest)}, not 64 hex digits")
    groups = info.get("row_group_sha256", {})
    if not isinstance(groups, dict):
        raise _Invalid(f"split {split!r}: 'row_group_sha256' must map shard names to lists of hex digests")
    for name, digests in groups.items():
        if name not in shards:
            raise _Invalid(
                f"split {split!r}: 'row_group_sha256' names {name!r}, which is not one of its shards"
            )
        if not isinstance(digests, list) or not all(
            isinstance(d, str) and _SHA256.fullmatch(d) for d in digests
        ):
            raise _Invalid(
                f"split {split!r}: the row-group checksums of {name!r} are not a list of 64 hex digits each"
            )
