"""Where stored data is: a local path or a URI, resolved once to a pyarrow filesystem and a path on it.

Decisions:

* Anything :func:`pyarrow.fs.FileSystem.from_uri` opens is a location: ``s3://``, ``gs://``,
  ``hdfs://``, ``file://``; a string without ``scheme://`` is a local path. Our own code never talks to a
  store: pyarrow does every transfer (boto3, s3fs and gcsfs are not needed).
* S3-compatible endpoints (MinIO, Ceph, moto, ...) are named by ``AWS_ENDPOINT_URL`` or the URI's
  ``endpoint_override`` query, as pyarrow (and so Ray) reads them; pyarrow 26 ignores
  ``AWS_ENDPOINT_URL_S3``. Credentials come from the standard AWS chain (environment, config files,
  instance roles), read by pyarrow alone: no function here sees them, so no message can hold them. A URI
  carrying credentials (``s3://KEY:SECRET@bucket/...``, which pyarrow would accept) is refused before
  anything else is done with it: it would end up in messages, manifests and run records.
* A location keeps its URI's query (``endpoint_override``, ``region``: options, never credentials, which
  pyarrow refuses there) for opening it again (:func:`absolute`); messages show the URI without it.
* Before the first request to a named endpoint a TCP connection is tried (:func:`check_reachable`):
  pyarrow retries an unreachable endpoint with back-off for a while before it gives up.
* A store's failure (unreachable endpoint, missing bucket, denied access) is a :class:`StorageError`:
  one line naming the location (bucket and key), the endpoint and the store's reason; a denial says
  "access denied" and the request refused, in place of pyarrow's longer wording of the same.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

if TYPE_CHECKING:
    import pyarrow.fs

CONNECT_TIMEOUT_S = 10
#: The URIs every path option that takes one accepts, as its --help says (:func:`uri_help`).
URI_SCHEMES = "s3://, gs://, hdfs://, file://"
_reached: set[str] = set()


class StorageError(OSError):
    """A store could not do what was asked: one line, ``<location>: <why>``."""

    def __str__(self) -> str:
        return f"{self.filename}: {self.strerror}"


def is_uri(where: str | os.PathLike) -> bool:
    """Whether ``where`` is a URI (``scheme://...``) rather than a local path."""
    return isinstance(where, str) and "://" in where


def path_or_uri(text: str) -> Path | str:
    """A command-line dataset argument: a local path as a Path, a URI as it is (a Path would fold its
    ``//``); argparse's ``type`` for every option that takes a dataset. A URI with credentials is a usage
    error whose message does not repeat them."""
    if not is_uri(text):
        return Path(text)
    problem = credentials_problem(text)
    if problem is not None:
        import argparse

        raise argparse.ArgumentTypeError(f"{shown(text)}: {problem}")
    return text


def credentials_problem(uri: str) -> str | None:
    """Why ``uri`` may not be used, when it carries user information (credentials); else None."""
    if "@" not in urlparse(uri).netloc:
        return None
    return (
        "credentials in a URI are refused (they would be written wherever the URI is); give them through "
        "the AWS chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, ~/.aws, or the machine's role"
    )


def uri_help(what: str) -> str:
    """The --help of an option taking a path or a URI: ``what`` it names, then the one wording of which URIs."""
    return f"{what}: a path or URI ({URI_SCHEMES})"


def absolute(where: str | os.PathLike | Location) -> str:
    """What opens ``where`` again, in another process too: a path made absolute, a URI as it is, a
    location's URI with its query (its endpoint options)."""
    if isinstance(where, Location):
        return str(where.local) if where.local is not None else where.open_uri
    where = str(where)
    return where if is_uri(where) else str(Path(where).expanduser().resolve())


def endpoint(uri: str) -> str | None:
    """The S3-compatible endpoint an ``s3://`` URI's requests go to, as pyarrow resolves it (None: AWS's
    own, or not S3)."""
    parsed = urlparse(uri)
    if parsed.scheme != "s3":
        return None
    override = parse_qs(parsed.query).get("endpoint_override")
    return override[0] if override else os.environ.get("AWS_ENDPOINT_URL")


def shown(where: str | os.PathLike) -> str:
    """A path, or a URI as messages show it: without its query (endpoint options), never with user info."""
    if not is_uri(where):
        return str(where)
    parsed = urlparse(str(where))
    return f"{parsed.scheme}://{parsed.netloc.rsplit('@', 1)[-1]}{parsed.path}"


def check_reachable(uri: str) -> None:
    """StorageError unless the S3 endpoint ``uri`` names (if any) accepts a TCP connection."""
    url = endpoint(uri)
    if url is None or url in _reached:
        return
    parsed = urlparse(url if "://" in url else f"http://{url}")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise StorageError(None, f"endpoint {url} is unreachable: {exc}", shown(uri)) from None
    _reached.add(url)


@dataclass(frozen=True)
class Location:
    """A file or folder on a pyarrow filesystem; ``str()`` is the path or URI as the user gave it."""

    fs: pyarrow.fs.FileSystem = field(compare=False)  # pyarrow's filesystems are not hashable
    path: str
    uri: str  # as messages show it: no query
    query: str = ""  # the URI's options (``endpoint_override=...``), kept for opening it again

    def __str__(self) -> str:
        return self.uri

    def __truediv__(self, name: str) -> Location:
        return Location(
            self.fs, f"{self.path.rstrip('/')}/{name}", f"{self.uri.rstrip('/')}/{name}", self.query
        )

    @property
    def name(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    @property
    def parent(self) -> Location:
        return Location(
            self.fs,
            self.path.rstrip("/").rsplit("/", 1)[0],
            self.uri.rstrip("/").rsplit("/", 1)[0],
            self.query,
        )

    @property
    def open_uri(self) -> str:
        """The URI that opens this location again, its query included."""
        return f"{self.uri}?{self.query}" if self.query else self.uri

    @property
    def local(self) -> Path | None:
        """The local path, or None in a store."""
        import pyarrow.fs

        return Path(self.path) if isinstance(self.fs, pyarrow.fs.LocalFileSystem) else None

    @contextmanager
    def failing(self, doing: str) -> Iterator[None]:
        """Re-raise a store's error while ``doing`` as one StorageError line naming this location."""
        import pyarrow as pa

        try:
            yield
        except (OSError, pa.ArrowException) as exc:
            if isinstance(exc, StorageError):
                raise
            raise StorageError(None, self._reason(doing, exc), self.uri) from None

    def _reason(self, doing: str, exc: BaseException) -> str:
        why = " ".join(str(exc).split())
        if isinstance(exc, PermissionError) or "ACCESS_DENIED" in why:
            # pyarrow's text is its own wording of the key and bucket this line names already
            operation = re.search(r"during (\w+) operation", why)
            why = "access denied to the credentials in use" + (f" ({operation[1]})" if operation else "")
        elif isinstance(exc, FileNotFoundError):
            why = self.missing_bucket() or why
        url = endpoint(self.open_uri)
        return f"cannot {doing}{f' (endpoint {url})' if url else ''}: {why}"

    def missing_bucket(self) -> str | None:
        """``"bucket 'B' does not exist"`` when this location's S3 bucket does not (else None)."""
        if not self.uri.startswith("s3://"):
            return None
        bucket = self.path.split("/", 1)[0]
        try:
            missing = self.fs.get_file_info(bucket).type.name == "NotFound"
        except OSError:  # no right to look: the store's own reason stands
            return None
        return f"bucket {bucket!r} does not exist" if missing else None

    def kind(self) -> str:
        """``'file'``, ``'directory'`` or ``'missing'``."""
        with self.failing("look it up"):
            kind = self.fs.get_file_info(self.path).type.name
        return {"File": "file", "Directory": "directory"}.get(kind, "missing")

    def stamp(self) -> tuple[int, int]:
        """This file's size and modification time (ns): what changes when a store's object is rewritten."""
        with self.failing("look it up"):
            info = self.fs.get_file_info(self.path)
        return info.size, info.mtime_ns

    def _entries(self, recursive: bool = False) -> list[pyarrow.fs.FileInfo]:
        """What this folder holds (nothing when it is missing), one level or at any depth."""
        import pyarrow.fs

        with self.failing("list it"):
            selector = pyarrow.fs.FileSelector(self.path, recursive=recursive, allow_not_found=True)
            return self.fs.get_file_info(selector)

    def list(self) -> list[str]:
        """The names in this folder (files and folders, one level)."""
        return sorted(info.base_name for info in self._entries())

    def folders(self) -> list[str]:
        """The names of the folders in this folder (one level; in a store, the common prefixes)."""
        return sorted(i.base_name for i in self._entries() if i.type.name == "Directory")

    def files(self) -> list[str]:
        """Every file below this folder, at any depth, as its key relative to it (``data/x.parquet``)."""
        start = len(self.path.rstrip("/")) + 1
        return sorted(i.path[start:] for i in self._entries(recursive=True) if i.type.name == "File")

    def open_input(self) -> Any:
        """A random-access file: Parquet readers fetch only the byte ranges they need."""
        with self.failing("read it"):
            return self.fs.open_input_file(self.path)

    def read_bytes(self) -> bytes:
        with self.failing("read it"), self.fs.open_input_stream(self.path) as f:
            return f.read()

    def open_stream(self) -> Any:
        """A sequential stream of the file's bytes."""
        with self.failing("read it"):
            return self.fs.open_input_stream(self.path)

    def open_output(self) -> Any:
        """A stream writing this file (in a store the object appears whole when the stream closes)."""
        with self.failing("write it"):
            return self.fs.open_output_stream(self.path)

    def write_bytes(self, data: bytes) -> None:
        with self.failing("write it"), self.fs.open_output_stream(self.path) as f:
            f.write(data)

    def make_dir(self) -> None:
        with self.failing("create it"):
            self.fs.create_dir(self.path)

    def delete(self) -> None:
        """Remove this file or folder (and everything under it); nothing when it is missing."""
        kind = self.kind()
        with self.failing("delete it"):
            if kind == "directory":
                self.fs.delete_dir(self.path)
            elif kind == "file":
                self.fs.delete_file(self.path)


def resolve(where: str | os.PathLike | Location) -> Location:
    """The location of a local path, a ``file://`` URI or a store's URI; StorageError for an unreachable
    endpoint or a URI pyarrow cannot open."""
    import pyarrow as pa
    import pyarrow.fs

    if isinstance(where, Location):
        return where
    if not is_uri(where):
        return Location(pyarrow.fs.LocalFileSystem(), str(Path(where).expanduser().absolute()), str(where))
    uri = str(where)
    problem = credentials_problem(uri)
    if problem is not None:
        raise StorageError(None, problem, shown(uri))
    check_reachable(uri)
    try:
        fs, path = pyarrow.fs.FileSystem.from_uri(uri)
    except (OSError, pa.ArrowException) as exc:
        raise StorageError(None, f"cannot open: {' '.join(str(exc).split())}", shown(uri)) from None
    return Location(fs, path.rstrip("/") or path, shown(uri).rstrip("/"), urlparse(uri).query)


def path_or_location(where: str | os.PathLike | Location) -> Path | Location:
    """A local path as a Path (a ``file://`` URI too), anything in a store as its Location: for code that
    keeps local files on their usual path (with the local file rules) and hands a store's to pyarrow."""
    if isinstance(where, Path) or not (isinstance(where, Location) or is_uri(where)):
        return Path(where)
    place = resolve(where)
    return place.local if place.local is not None else place
