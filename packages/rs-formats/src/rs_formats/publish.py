"""Publishing a folder in a store, where there is no atomic rename: its manifest is the commit point.

Used for an rs-dataset (``manifest.json`` beside ``data/``) and an rs-clip-embeddings folder
(``embeddings.json`` beside ``part-NNNNN.parquet``). Decisions:

- The writer builds the folder in local scratch as it does for a local target (final names, checksums);
  publishing uploads every other file to the prefix and then, last, the manifest. Readers refuse a prefix
  without its manifest, so until that one object is written nothing is published, and a killed upload
  leaves files that no reader takes for a dataset or for embeddings.
- Reading one starts at its manifest (:func:`read_manifest`): a prefix without it is refused in one line
  that says so, whatever the contract.
- Replacing a folder (``overwrite``) removes its manifest first, then the rest, then publishes: in
  between the prefix is nothing, rather than a mix of two. A prefix holding only what an interrupted
  upload of the same contract leaves (:func:`unfinished`: every file's key one of the contract's payload
  names, e.g. a dataset's ``data/<split>-NNNNN-of-MMMMM.parquet``) is cleared and written without
  ``overwrite``; one holding anything else (a user's ``data/photo.jpg``) is replaced only with it.
- A folder goes under a prefix, never at a bucket's top: replacing the top would empty the bucket.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import FormatError
from .inputs import MAX_TEXT_BYTES, parse_json
from .location import Location

#: At most this many of a prefix's names are listed in a refusal.
_SHOWN_NAMES = 5


def unfinished(keys: Iterable[str], payload: re.Pattern[str]) -> bool:
    """Whether a prefix whose files have ``keys`` (relative to it, :meth:`Location.files`) holds only what
    an upload that never wrote its manifest leaves: at least one file, and every key a ``payload`` name."""
    keys = list(keys)
    return bool(keys) and all(payload.fullmatch(key) for key in keys)


def check_target(
    target: Location, overwrite: bool, manifest: str, what: str, payload: re.Pattern[str]
) -> None:
    """FileExistsError unless ``target`` may receive a folder whose commit point is ``manifest`` and whose
    other files' keys are ``payload`` names (``what`` names its kind in the refusal); ValueError for a
    bucket's top."""
    if "/" not in target.path.strip("/"):
        raise ValueError(f"{target}: an {what} goes under a prefix in a bucket, not at its top")
    if overwrite or target.kind() == "missing":
        return
    names = target.list()
    if not names:
        return
    if manifest in names:
        raise FileExistsError(f"{target}: already exists (pass overwrite=True to replace it)")
    if not unfinished(target.files(), payload):
        shown = ", ".join(names[:_SHOWN_NAMES]) + (
            f" and {len(names) - _SHOWN_NAMES} more" if len(names) > _SHOWN_NAMES else ""
        )
        raise FileExistsError(f"{target}: holds {shown}, not an {what}; pass overwrite=True to replace it")


def publish(
    tmp: Path, target: Location, overwrite: bool, manifest: str, what: str, payload: re.Pattern[str]
) -> None:
    """Upload a completed local staging directory to ``target``, ``manifest`` last; ``tmp`` is removed."""
    import pyarrow.fs

    try:
        check_target(target, overwrite, manifest, what, payload)
        (target / manifest).delete()  # from here on the prefix holds nothing until the new manifest
        target.delete()
        local = pyarrow.fs.LocalFileSystem()
        with target.failing(f"write the {what} there"):
            for entry in sorted(tmp.iterdir()):
                if entry.name == manifest:
                    continue
                pyarrow.fs.copy_files(  # a file or a folder, streamed
                    str(entry),
                    (target / entry.name).path,
                    source_filesystem=local,
                    destination_filesystem=target.fs,
                )
        (target / manifest).write_bytes((tmp / manifest).read_bytes())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_manifest(root: Location, manifest: str, what: str, folder: str) -> Any:
    """The JSON value of the manifest that published ``root``.

    Args:
        root: the folder's prefix in a store.
        manifest: the manifest's name (the commit point).
        what: the contract's name, for the refusal of a prefix without the manifest.
        folder: what a missing prefix is called ("no such ``folder``").

    Returns:
        The parsed manifest; a missing one, one larger than a manifest can be, or one that is not UTF-8
        JSON is a :class:`~rs_formats.errors.FormatError` naming it.
    """
    mpath = root / manifest
    if mpath.kind() != "file":
        if root.kind() == "missing":
            why = root.missing_bucket() or "nothing is stored under this prefix"
            raise FormatError(root, f"no such {folder} ({why})")
        raise FormatError(
            mpath, f"missing: this prefix holds no published {what} (perhaps a write that never finished)"
        )
    with mpath.failing("look it up"):
        size = mpath.fs.get_file_info(mpath.path).size
    if size > MAX_TEXT_BYTES:
        raise FormatError(mpath, f"{size} bytes: larger than a manifest can be ({MAX_TEXT_BYTES})")
    try:
        return parse_json(mpath.read_bytes().decode("utf-8-sig"), mpath)
    except UnicodeDecodeError as exc:
        raise FormatError(mpath, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
