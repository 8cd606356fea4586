"""An rs-clip-checkpoint in a store (``s3://bucket/run/checkpoints/final``, any URI
:mod:`rs_formats.location` opens), or a weights file there (``s3://bucket/weights/ViT-B-32.pt``), as a
local copy to load: what a node of a cluster that shares no filesystem loads ``--model`` or ``--init``
from.

Decisions:

* Downloaded once into a local cache: ``$RS_CLIP_MODELS_CACHE`` (default
  ``$XDG_CACHE_HOME/rs-clip-models``, else ``~/.cache/rs-clip-models``), under ``<key>/<name>/``, where
  ``key`` is the sha256 of the stored ``manifest.json`` and ``name`` the stored folder's (so reports
  name the model as the store does). The manifest lists the sha256 of every other file: the same
  manifest is the same checkpoint, and a checkpoint rewritten in the store is a new entry, never a stale
  hit.
* Only what a model is loaded from: the files at the checkpoint's top level. ``train_state/`` (a
  trainer's resume state, the largest part) is never downloaded: a checkpoint without it loads and
  verifies as a model repository does (:func:`rs_formats.checkpoint.verify_resume_state`).
* Verified before it is published in the cache (:func:`rs_formats.checkpoint.verify_checkpoint`: the
  contract, and the weights against the manifest's sha256), and published atomically
  (:func:`rs_formats.atomic.atomic_dir`): an interrupted or corrupt download leaves no entry.
* Once per node: the processes that want an entry at the same time (a node's ranks, each loading
  ``--init``) take turns under a file lock beside it (filelock: the lock a Hugging Face cache uses too), so
  one downloads and the others find its copy, rather than each downloading and replacing the others'.
* A weights file has no manifest: its cache key is the sha256 of its URI, size and modification time, so
  a file rewritten in the store is a new entry (a store's time may be in whole seconds: a rewrite of the
  same size within the second is not told apart). Where the zoo publishes the sha256 of a file of that
  name (RemoteCLIP's, ...: :data:`rs_clip_models.zoo.ZOO`) and the spec takes the file for the
  publisher's (FILE or ENTRY:URI, not NAME:URI), the download is checked against it, since the whole file
  passes through anyway; a local file is not (hashing 600 MB at every load is not free).
* A store's failure is one line naming the location and its endpoint (:class:`~rs_formats.location.
  StorageError`); a checkpoint that breaks its contract is a FormatError naming the stored file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

from rs_formats.atomic import atomic_dir
from rs_formats.checkpoint import MANIFEST, verify_checkpoint
from rs_formats.errors import FormatError
from rs_formats.hashing import file_sha256
from rs_formats.location import Location, resolve

from . import zoo


def cache_dir() -> Path:
    """Where stored checkpoints are kept once downloaded."""
    if os.environ.get("RS_CLIP_MODELS_CACHE"):
        return Path(os.environ["RS_CLIP_MODELS_CACHE"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rs-clip-models"


def fetch(uri: str, cache: Path | None = None, *, published: bool = True) -> Path:
    """The local copy of the rs-clip-checkpoint (a folder) or the weights file stored at ``uri``,
    downloaded and verified if the cache has no copy of it yet. ``published``: a file under a name the zoo
    lists must be its publisher's (False where the user names the network, NAME:URI)."""
    where = resolve(uri)
    kind = where.kind()
    if kind == "file":
        size, mtime_ns = where.stamp()
        key = hashlib.sha256(f"{where.uri}\n{size}\n{mtime_ns}\n{published}".encode()).hexdigest()
        entry = (cache or cache_dir()) / key
        _once(entry, lambda tmp: _fill_file(where, tmp / where.name, published))
        return entry / where.name
    if kind == "missing":
        raise FormatError(where, "no such checkpoint or weights file")
    manifest = where / MANIFEST
    if manifest.kind() != "file":
        raise FormatError(where, "not an rs-clip-checkpoint (no manifest.json)")
    data = manifest.read_bytes()
    local = (cache or cache_dir()) / hashlib.sha256(data).hexdigest() / where.name
    _once(local, lambda tmp: _fill_checkpoint(where, data, tmp))
    return local


def _once(entry: Path, fill: Callable[[Path], None]) -> None:
    """Publish cache ``entry`` (a folder) from ``fill(tmp)``, unless it exists. A node's processes (the
    ranks of a training job) take turns under a file lock: one downloads, the others find its copy."""
    if entry.exists():
        return
    entry.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{entry}.lock"):
        if not entry.exists():
            with atomic_dir(entry) as tmp:
                fill(tmp)


def _fill_checkpoint(where: Location, manifest: bytes, tmp: Path) -> None:
    for name in where.list():
        if name == MANIFEST or (where / name).kind() != "file":
            continue  # train_state/ and any other folder: not part of a model
        _download(where / name, tmp / name)
    (tmp / MANIFEST).write_bytes(manifest)
    try:
        verify_checkpoint(tmp)
    except FormatError as exc:
        raise FormatError(f"{where}/{Path(exc.path).name}", exc.reason) from None


def _fill_file(where: Location, local: Path, published: bool) -> None:
    _download(where, local)
    entry = zoo.entry_for_file(where.name) if published else None
    expected = {f.lower(): h for f, h in entry.sha256}.get(where.name.lower()) if entry else None
    if expected is not None and (got := file_sha256(local)) != expected:
        raise FormatError(
            where,
            f"sha256 {got} is not the one {entry.publisher} published ({expected}): if these are other "
            "weights, write NAME:URI with their network",
        )


def _download(src: Location, dst: Path) -> None:
    with src.failing("read it"), src.open_stream() as stream, open(dst, "wb") as out:
        shutil.copyfileobj(stream, out)
