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
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from .errors import FormatError

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


def written_by_us(folder: str | Path) -> str | None:
    """The manifest by which ``folder`` says an rs-clip tool wrote it, or None."""
    from .inputs import read_json

    folder = Path(folder)
    for name, formats in OWN_MANIFESTS.items():
        path = folder / name
        try:
            if not path.is_file() or path.is_symlink() or path.stat().st_size > _MAX_MANIFEST_BYTES:
                continue
            value = read_json(path)
        except (OSError, FormatError):
            continue
        if not isinstance(value, dict):
            continue
        if (formats is None and _TRUTH_KEYS <= value.keys()) or (formats and value.get("format") in formats):
            return name
    return None


def _real(path: str | Path) -> str:
    return os.path.realpath(os.path.expanduser(os.fspath(path)))


def _within(inner: str, outer: str) -> bool:
    return inner == outer or inner.startswith(outer.rstrip(os.sep) + os.sep)


def check_output(
    out: str | Path,
    inputs: Iterable[str | Path | None],
    overwrite: bool | None = None,
    *,
    flag: str = "--out",
) -> Path:
    """``out`` as a path, or FormatError (naming ``out`` and ``flag``) when writing there is not safe.

    ``inputs`` are every path the command reads (None entries are ignored). ``overwrite``: None when the
    command writes into ``out`` without replacing it; else whether ``--overwrite`` was given, for a
    command that replaces ``out`` as a whole.
    """
    out = Path(out)
    real_out = _real(out)
    for source in inputs:
        if source is None or not os.fspath(source):
            continue
        real_in = _real(source)
        if real_out == real_in:
            how = "is"
        elif _within(real_out, real_in):
            how = "lies inside"
        elif _within(real_in, real_out):
            how = "contains"
        else:
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
