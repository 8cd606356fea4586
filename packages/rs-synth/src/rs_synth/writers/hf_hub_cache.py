"""A folder's files laid out as huggingface_hub caches a download of a model repository.

``CACHE/models--ORG--NAME/`` with ``blobs/`` (the files, named by their sha256), ``snapshots/REV/`` (links
to the blobs under the files' names) and ``refs/main`` (naming REV): what ``hf_hub_download`` and
``snapshot_download`` read with ``HF_HUB_OFFLINE=1`` or ``local_files_only=True``, so tests can stand in
for the Hub with nothing downloaded.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path


def write_hub_cache(cache: str | Path, repo_id: str, folder: str | Path) -> Path:
    """Cache ``folder``'s files (not its subfolders) as ``repo_id``'s ``main`` revision; returns ``cache``."""
    cache = Path(cache)
    base = cache / f"models--{repo_id.replace('/', '--')}"
    revision = hashlib.sha1(repo_id.encode()).hexdigest()
    snapshot = base / "snapshots" / revision
    snapshot.mkdir(parents=True)
    (base / "blobs").mkdir()
    for file in Path(folder).iterdir():
        if file.is_file():
            blob = base / "blobs" / hashlib.sha256(file.read_bytes()).hexdigest()
            shutil.copyfile(file, blob)
            (snapshot / file.name).symlink_to(os.path.relpath(blob, snapshot))
    (base / "refs").mkdir()
    (base / "refs" / "main").write_text(revision)
    return cache
