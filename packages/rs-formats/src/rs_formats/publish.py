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
  upload leaves (:func:`unfinished`) is cleared and written without ``overwrite``; one holding anything
  else is replaced only with it.
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

#: Names an interrupted upload leaves in a prefix: a dataset's ``data/``, embeddings' Parquet files.
_PAYLOAD = re.compile(r"data|part-\d{5}\.parquet")


def unfinished(names: Iterable[str]) -> bool:
    """Whether a prefix holding ``names`` holds only the files of an upload that never wrote its manifest."""
    names = set(names)
    return bool(names) and all(_PAYLOAD.fullmatch(name) for name in names)


def check_target(target: Location, overwrite: bool, manifest: str, what: str) -> None:
    """FileExistsError unless ``target`` may receive a folder whose commit point is ``manifest`` (``what``
    names its kind in the refusal)."""
    if overwrite or target.kind() == "missing":
        return
    names = set(target.list())
    if manifest in names:
        raise FileExistsError(f"{target}: already exists (pass overwrite=True to replace it)")
    if not unfinished(names):
        raise FileExistsError(
            f"{target}: holds {', '.join(sorted(names))}, not an {what}; pass overwrite=True to replace it"
        )


def publish(tmp: Path, target: Location, overwrite: bool, manifest: str, what: str) -> None:
    """Upload a completed local staging directory to ``target``, ``manifest`` last; ``tmp`` is removed."""
    import pyarrow.fs

    try:
        check_target(target, overwrite, manifest, what)
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
