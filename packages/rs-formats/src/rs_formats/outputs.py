"""Where a command may write: never over, inside or around what it reads, and only over what we wrote.

One rule for the six tools, checked before anything is written or removed (:func:`check_output`):

* **The output never overlaps an input.** An ``--out`` that is an input, lies inside one or contains one
  is refused: replacing it would delete the user's source, writing into it would change a dataset being
  read. Paths are compared after resolving symlinks, so a link to the source counts as the source.
* **``--overwrite`` replaces only a folder an rs-clip tool wrote, or an empty one.** A folder is ours when
  its manifest says so (:data:`OWN_MANIFESTS`: an rs-dataset, an rs-clip-checkpoint, an embeddings folder,
  rs-synth's ``_truth.json``); a folder of anything else (a user's images, a home directory) is refused
  even with ``--overwrite``: the user removes it, never us.

Commands that write files into a folder without replacing it (reports, run directories, a contact sheet)
get the first rule only (``overwrite=None``).

An output in a store (``s3://bucket/prefix``, :mod:`rs_formats.location`) follows the same rules: it
overlaps an input in the same store (same scheme, same bucket) when one prefix is or contains the other, and
its manifest is read through its location. A prefix holding only ``data/`` is a write that never finished
(:mod:`rs_formats.dataset.publish`), ours to replace. Local paths and ``file://`` URIs are local files.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from .errors import FormatError
from .location import Location, is_uri, resolve

#: Manifest file -> the ``format`` values by which a folder says an rs-clip tool wrote it (None: rs-synth's
#: ground truth, recognised by its keys).
OWN_MANIFESTS: dict[str, tuple[str, ...] | None] = {
    "manifest.json": ("rs-dataset", "rs-clip-checkpoint"),
    "embeddings.json": ("rs-clip-embeddings",),
    "_truth.json": None,
}
_TRUTH_KEYS = {"format", "seed", "size", "images"}
#: Manifests are small; a larger file of that name is not one of ours.
_MAX_MANIFEST_BYTES = 1 << 26


def written_by_us(folder: str | Path | Location) -> str | None:
    """The manifest by which ``folder`` (a path, or a prefix in a store) says an rs-clip tool wrote it, or
    None."""
    for name, formats in OWN_MANIFESTS.items():
        value = _own_json(folder / name if isinstance(folder, Location) else Path(folder) / name)
        if not isinstance(value, dict):
            continue
        if (formats is None and _TRUTH_KEYS <= value.keys()) or (formats and value.get("format") in formats):
            return name
    return None


def _own_json(path: Path | Location) -> object:
    """A manifest's JSON value, or None where there is no regular, small, readable JSON file."""
    from .inputs import parse_json, read_json

    try:
        if isinstance(path, Location):
            info = path.fs.get_file_info(path.path)
            if info.type.name != "File" or info.size > _MAX_MANIFEST_BYTES:
                return None
            return parse_json(path.read_bytes().decode("utf-8-sig"), path)
        if not path.is_file() or path.is_symlink() or path.stat().st_size > _MAX_MANIFEST_BYTES:
            return None
        return read_json(path)
    except (OSError, ValueError):  # FormatError and UnicodeDecodeError are ValueErrors
        return None


def _store_key(where: str | os.PathLike | Location | None) -> tuple[str, str] | None:
    """(scheme, bucket/prefix) of a place in a store; None for a local path or a ``file://`` URI."""
    if isinstance(where, Location):
        return None if where.local is not None else (where.uri.split("://", 1)[0], where.path.strip("/"))
    if where is None or not is_uri(where):
        return None
    scheme, rest = str(where).split("://", 1)
    if scheme == "file":
        return None
    return scheme, rest.split("?", 1)[0].strip("/")


def _real(path: str | Path) -> str:
    return os.path.realpath(os.path.expanduser(os.fspath(path)))


def _within(inner: str, outer: str, sep: str) -> bool:
    return inner == outer or inner.startswith(outer.rstrip(sep) + sep)


def check_output(
    out: str | Path | Location,
    inputs: Iterable[str | Path | Location | None],
    overwrite: bool | None = None,
    *,
    flag: str = "--out",
) -> Path | Location:
    """``out`` as a path (its Location for a store's URI), or FormatError (naming ``out`` and ``flag``) when writing there is not safe.

    ``inputs`` are every path the command reads (None entries are ignored). ``overwrite``: None when the
    command writes into ``out`` without replacing it; else whether ``--overwrite`` was given, for a
    command that replaces ``out`` as a whole.
    """
    if _store_key(out) is not None:
        return _check_stored(out, inputs, overwrite, flag)
    if isinstance(out, Location) or is_uri(out):  # a file:// URI: a local path
        out = Path(resolve(out).path)
    out = Path(out)
    real_out = _real(out)
    for source in inputs:
        if source is None or _store_key(source) is not None or not str(source):
            continue
        real_in = _real(resolve(source).path if isinstance(source, Location) or is_uri(source) else source)
        how = _overlap(real_out, real_in, os.sep)
        if how is None:
            continue
        raise FormatError(
            out,
            f"{flag} {how} the input {source}; refusing to write there (nothing was written or removed)",
        )
    if overwrite and os.path.lexists(out):
        _check_replaceable(out, flag)
    return out


def _check_replaceable(out: Path, flag: str) -> None:
    refuse = (
        "; --overwrite replaces only a folder an rs-clip tool wrote (its manifest says so) or an empty one"
    )
    if out.is_symlink() or not out.is_dir():
        raise FormatError(out, f"{flag} exists and is not a folder{refuse}")
    try:
        empty = next(os.scandir(out), None) is None
    except OSError as exc:
        raise FormatError(out, f"cannot read: {exc.strerror or exc}") from None
    if not empty and written_by_us(out) is None:
        raise FormatError(out, f"{flag} holds files no rs-clip tool wrote{refuse}; remove it yourself")


def _overlap(out: str, source: str, sep: str) -> str | None:
    """How ``out`` overlaps ``source`` (``is``, ``lies inside``, ``contains``), or None."""
    if out == source:
        return "is"
    if _within(out, source, sep):
        return "lies inside"
    if _within(source, out, sep):
        return "contains"
    return None


def _check_stored(
    out: str | Location, inputs: Iterable[str | Path | Location | None], overwrite: bool | None, flag: str
) -> Location:
    """:func:`check_output` for an output in a store: the same rules, prefixes compared as the store's."""
    key = _store_key(out)
    for source in inputs:
        other = _store_key(source)
        how = _overlap(key[1], other[1], "/") if other is not None and other[0] == key[0] else None
        if how is not None:
            raise FormatError(
                str(out),
                f"{flag} {how} the input {source}; refusing to write there (nothing was written or removed)",
            )
    place = resolve(out)
    if overwrite and place.kind() != "missing":
        refuse = "; --overwrite replaces only a prefix an rs-clip tool wrote (its manifest says so) or an empty one"
        if place.kind() == "file":
            raise FormatError(str(out), f"{flag} exists and is not a folder{refuse}")
        names = set(place.list())
        if names and names != {"data"} and written_by_us(place) is None:
            raise FormatError(
                str(out), f"{flag} holds files no rs-clip tool wrote{refuse}; remove it yourself"
            )
    return place
