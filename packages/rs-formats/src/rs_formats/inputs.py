"""Reading files a user handed us: the rules every package applies before it trusts a path.

* **Only regular files are read.** A FIFO, a device, a socket or a directory named like a label or an
  image (or a symlink to one, such as ``/dev/zero``) is refused before it is opened; the open descriptor is
  checked again (opened non-blocking, so a FIFO swapped in meanwhile cannot hang us), so nothing blocks on
  a pipe or reads an endless device (:func:`open_regular`, :func:`read_bytes`, :func:`read_text`).
* **Names that come from inside label files stay inside the directory they belong to**
  (:func:`check_name`, :func:`join_inside`): an absolute path, any ``..`` component, a NUL byte or a
  non-string is refused, and so is a path whose symlinks lead out of the directory, unless
  ``follow_symlinks=True`` (for layouts that link images in from elsewhere; absolute names and ``..`` stay
  refused). :func:`check_inside` applies the symlink rule to files found by listing the directory.
* **Text inputs have a bounded size** (:data:`MAX_TEXT_BYTES`): a label file, a manifest or a suite
  larger than that is refused from its size before a byte is read (a 1 GiB label file took 2.2 GB).
* **JSON and YAML have a bounded depth** (:data:`MAX_JSON_DEPTH`): a file nested thousands deep is an error
  naming it, never a ``RecursionError`` here or later, in whatever walks the value.

Every refusal is a :class:`~rs_formats.FormatError` naming the file (and line). Callers with their own
error type (rs-annotate's ``BadInput``) convert it; the rules stay here.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import Any, BinaryIO

from .errors import FormatError

#: Deepest nesting of arrays and objects accepted in a JSON or YAML input (real files nest fewer than ten).
MAX_JSON_DEPTH = 64
#: Largest text input (256 MiB): the largest label files of the supported sources (SDD's per-video
#: annotations, AU-AIR's and iSAID's JSON) are tens of MB; decoding and parsing take a few times the size.
MAX_TEXT_BYTES = 1 << 28

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


_TOO_DEEP = object()


def _not_regular(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def check_regular(path: str | Path) -> os.stat_result:
    """The file's status (symlinks followed), or FormatError unless it is a regular file; never opens it."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise FormatError(path, f"cannot read: {exc.strerror or exc}") from None
    what = _not_regular(st.st_mode)
    if what is not None:
        raise FormatError(path, f"is {what}, not a regular file; refusing to read it")
    return st


def open_regular(path: str | Path) -> BinaryIO:
    """A regular file opened for reading in binary; anything else is refused before and after ``open``."""
    check_regular(path)
    flags = (
        os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    )
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise FormatError(path, f"cannot read: {exc.strerror or exc}") from None
    what = _not_regular(os.fstat(fd).st_mode)
    if what is not None:  # replaced between the stat and the open
        os.close(fd)
        raise FormatError(path, f"is {what}, not a regular file; refusing to read it")
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_bytes(path: str | Path, limit: int | None = None) -> bytes:
    """The bytes of a regular file; with ``limit``, FormatError for a file larger than that, from its size
    before reading (and after: a file growing meanwhile is cut off at ``limit`` + 1 bytes)."""
    with open_regular(path) as f:
        try:
            if limit is not None and os.fstat(f.fileno()).st_size > limit:
                raise _too_big(path, os.fstat(f.fileno()).st_size, limit)
            data = f.read() if limit is None else f.read(limit + 1)
        except OSError as exc:
            raise FormatError(path, f"cannot read: {exc.strerror or exc}") from None
    if limit is not None and len(data) > limit:
        raise _too_big(path, len(data), limit)
    return data


def _too_big(path: str | Path, size: int, limit: int) -> FormatError:
    return FormatError(
        path, f"is {size:,} bytes, over the {limit:,} a text input may hold; refusing to read it"
    )


def read_text(path: str | Path, limit: int = MAX_TEXT_BYTES) -> str:
    """A regular file as UTF-8 text (a byte-order mark dropped), at most ``limit`` bytes; FormatError when it
    is larger or not UTF-8."""
    data = read_bytes(path, limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FormatError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})", line) from None


def parse_json(text: str, path: str | Path) -> Any:
    """A JSON document's value; FormatError naming ``path`` (and the line) for bad syntax or deep nesting."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(path, f"not valid JSON: {exc.msg} (column {exc.colno})", exc.lineno) from None
    except ValueError as exc:  # valid syntax Python cannot convert: an integer of more than 4300 digits
        raise FormatError(path, f"not a usable JSON value ({exc})") from None
    except RecursionError:  # the parser itself gave up (thousands of levels)
        value = _TOO_DEEP
    if value is _TOO_DEEP or _too_deep(value):
        raise FormatError(path, f"JSON nested more than {MAX_JSON_DEPTH} levels deep; refusing it")
    return value


def parse_yaml(text: str, path: str | Path) -> Any:
    """A YAML document's value (safe loader: plain data only); FormatError naming ``path`` and the line of
    a syntax error, or the depth it nests to (as :func:`parse_json`)."""
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)  # lines count from 0 there
        raise FormatError(
            path,
            f"not valid YAML: {getattr(exc, 'problem', None) or exc}",
            mark.line + 1 if mark is not None else None,
        ) from None
    except RecursionError:
        value = _TOO_DEEP
    if value is _TOO_DEEP or _too_deep(value):
        raise FormatError(path, f"YAML nested more than {MAX_JSON_DEPTH} levels deep; refusing it")
    return value


def read_json(path: str | Path) -> Any:
    """A regular JSON file's value (see :func:`parse_json`)."""
    return parse_json(read_text(path), path)


def _too_deep(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            if depth > MAX_JSON_DEPTH:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def check_name(name: Any, *, cited: str | Path, line: int | None = None) -> PurePath:
    """A relative file name read from a label file (``cited``), as a path; FormatError if it is not a
    non-empty string or is absolute, climbs with ``..`` or holds a NUL byte. Backslashes count as separators.
    """
    if not isinstance(name, str) or not name.strip():
        raise FormatError(cited, f"file name {name!r} is not a non-empty string", line)

    def refuse(why: str) -> FormatError:
        return FormatError(
            cited, f"file name {name!r} {why}; names in labels must stay inside their folder", line
        )

    if "\0" in name:
        raise refuse("holds a NUL byte")
    pure = PurePath(name.replace("\\", "/"))
    if pure.is_absolute() or pure.drive or name.startswith(("/", "\\")):
        raise refuse("is an absolute path")
    if ".." in pure.parts:
        raise refuse("climbs out with '..'")
    return pure


def join_inside(
    root: str | Path, name: Any, *, cited: str | Path, line: int | None = None, follow_symlinks: bool = False
) -> Path:
    """``root / name`` for a file name read from the label file ``cited`` (errors name it and ``line``),
    refused unless it stays inside ``root`` (:func:`check_name`, :func:`check_inside`). ``name`` may hold
    sub-folders (``train/0001.jpg``); the file need not exist."""
    path = Path(root) / check_name(name, cited=cited, line=line)
    return check_inside(root, path, cited=cited, line=line, follow_symlinks=follow_symlinks)


def check_inside(
    roots: str | Path | Sequence[str | Path],
    path: str | Path,
    *,
    cited: str | Path | None = None,
    line: int | None = None,
    follow_symlinks: bool = False,
    hint: str | None = "--follow-symlinks allows symlinks",
) -> Path:
    """``path`` unless symlinks on its way lead it out of every one of ``roots``.

    ``follow_symlinks=True`` accepts such links; symlinks that stay inside are always fine. The roots
    are the directories a user named (a source directory, an image folder given as an option). ``hint``
    ends the refusal (None where no flag allows symlinks: a checkpoint's or a dataset's own files).
    """
    path = Path(path)
    if follow_symlinks:
        return path
    real = os.path.realpath(path)
    allowed = [os.path.realpath(r) for r in ([roots] if isinstance(roots, (str, os.PathLike)) else roots)]
    if any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in allowed):
        return path
    raise FormatError(
        cited if cited is not None else path,
        f"{path} leads outside {allowed[0] if len(allowed) == 1 else allowed} through a symlink "
        f"(to {real}); refusing to read it" + (f" ({hint})" if hint else ""),
        line,
    )
