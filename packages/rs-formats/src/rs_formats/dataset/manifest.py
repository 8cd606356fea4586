"""Reading and validating an ``rs-dataset``'s ``manifest.json``: the first thing every reader checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import FormatError
from .schema import DATASET_FORMAT, KINDS, MANIFEST, READABLE_VERSIONS


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Load and validate a dataset manifest (format, version, kind, splits); FormatError otherwise."""
    root = Path(path)
    mpath = root / MANIFEST
    if not root.exists():
        raise FormatError(root, "no such dataset directory")
    if not mpath.is_file():
        raise FormatError(mpath, "missing: this directory is not an rs-dataset (no manifest.json)")
    try:
        manifest = json.loads(mpath.read_text())
    except json.JSONDecodeError as exc:
        raise FormatError(mpath, f"not valid JSON ({exc.msg}, column {exc.colno})", line=exc.lineno) from None
    except UnicodeDecodeError:
        raise FormatError(mpath, "not a text file") from None
    if not isinstance(manifest, dict):
        raise FormatError(mpath, "must hold a JSON object")
    fmt = manifest.get("format")
    if fmt != DATASET_FORMAT:
        raise FormatError(mpath, f"format is {fmt!r}, expected {DATASET_FORMAT!r}")
    version = manifest.get("format_version")
    if version not in READABLE_VERSIONS:
        raise FormatError(
            mpath,
            f"format_version {version!r} is not supported by this rs-formats "
            f"(reads {', '.join(map(str, READABLE_VERSIONS))}); upgrade rs-formats to read it",
        )
    if manifest.get("kind") not in KINDS:
        raise FormatError(mpath, f"kind {manifest.get('kind')!r} is not one of {KINDS}")
    splits = manifest.get("splits")
    if not isinstance(splits, dict):
        raise FormatError(mpath, "'splits' must map split names to their shards")
    for split, info in splits.items():
        if not isinstance(info, dict) or not isinstance(info.get("shards"), list):
            raise FormatError(mpath, f"split {split!r} has no 'shards' list")
    return manifest
