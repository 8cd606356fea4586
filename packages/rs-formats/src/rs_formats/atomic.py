"""Atomic directory writes: build in a hidden sibling, rename into place only when complete.

A reader never sees a half-written dataset or checkpoint: until the final ``os.replace`` the target
path either does not exist or still holds the previous complete version.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def staging_dir(target: Path) -> Path:
    """A fresh hidden directory on the same filesystem as ``target`` (so the rename is atomic).

    Made with ``mkdir`` rather than ``tempfile.mkdtemp``: the published directory keeps the permissions
    the user's umask gives (mkdtemp's are 0700, which would hide a dataset from the rest of a cluster).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}-{secrets.token_hex(6)}"
    tmp.mkdir()
    return tmp


def commit_dir(tmp: Path, target: Path, overwrite: bool) -> None:
    """Move a completed staging directory into place."""
    if target.exists():
        if not overwrite:
            shutil.rmtree(tmp, ignore_errors=True)
            raise FileExistsError(f"{target}: already exists (pass overwrite=True to replace it)")
        # Rename the old version aside first so that there is never a moment with a mixed directory.
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, target)
    _fsync_dir(target.parent)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_dir(target: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """``with atomic_dir(out) as tmp: write into tmp`` — ``out`` appears only if the block succeeds."""
    target = Path(target)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target}: already exists (pass overwrite=True to replace it)")
    tmp = staging_dir(target)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    commit_dir(tmp, target, overwrite)


def atomic_write_text(path: Path, text: str) -> None:
    """Write a small file so that readers see the old or the new content, never a torn one."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)
