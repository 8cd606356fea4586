"""An rs-clip-checkpoint in a store (``s3://bucket/run/checkpoints/final``, any URI
:mod:`rs_formats.location` opens), as a local checkpoint directory to load.

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
* A store's failure is one line naming the location and its endpoint (:class:`~rs_formats.location.
  StorageError`); a checkpoint that breaks its contract is a FormatError naming the stored file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from rs_formats.atomic import atomic_dir
from rs_formats.checkpoint import MANIFEST, verify_checkpoint
from rs_formats.errors import FormatError
from rs_formats.location import resolve


def cache_dir() -> Path:
    """Where stored checkpoints are kept once downloaded."""
    if os.environ.get("RS_CLIP_MODELS_CACHE"):
        return Path(os.environ["RS_CLIP_MODELS_CACHE"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rs-clip-models"


def fetch(uri: str, cache: Path | None = None) -> Path:
    """The local copy of the rs-clip-checkpoint stored at ``uri``, downloaded and verified if the cache
    has no copy of it yet."""
    where = resolve(uri)
    manifest = where / MANIFEST
    if manifest.kind() != "file":
        kind = where.kind()
        why = "no such checkpoint" if kind == "missing" else "not an rs-clip-checkpoint (no manifest.json)"
        raise FormatError(where, why)
    data = manifest.read_bytes()
    local = (cache or cache_dir()) / hashlib.sha256(data).hexdigest() / where.name
    if local.is_dir():
        return local
    with atomic_dir(local, overwrite=True) as tmp:  # a concurrent download's copy is the same
        for name in where.list():
            if name == MANIFEST or (where / name).kind() != "file":
                continue  # train_state/ and any other folder: not part of a model
            with (where / name).open_stream() as src, open(tmp / name, "wb") as dst:
                shutil.copyfileobj(src, dst)
        (tmp / MANIFEST).write_bytes(data)
        try:
            verify_checkpoint(tmp)
        except FormatError as exc:
            raise FormatError(f"{where}/{Path(exc.path).name}", exc.reason) from None
    return local
