"""Where a run under Ray Train is kept: its run directory (the default), or ``--storage``, e.g. S3.

Decisions:

* By default Ray Train's storage is the run directory itself (Ray's ``storage_path`` is its parent, the
  run's name its name), on a filesystem every node shares: checkpoints are registered with Ray where they
  are written, and nothing is copied.
* ``--storage URI`` (``s3://bucket/prefix``, any URI pyarrow opens, or a shared path) is Ray's
  ``storage_path``: the run is kept at ``URI/<name of --out>`` in the run directory's layout,
  ``checkpoints/step-N/`` uploaded by Ray Train as each is reported (synchronously, since the training loop
  prunes its local copies), and ``run.yaml``, ``metrics.jsonl`` and the trackers' files copied by rank 0
  after each checkpoint and at the end. ``--out`` is then the working copy, where the ranks stage their
  parts of a checkpoint: on several nodes it must still be a directory they share.
* The store is reached the way Ray reaches it, through pyarrow, and resolved as every stored location is
  (:mod:`rs_formats.location`: endpoints, credentials, reachability).
* Before any worker starts, :func:`check` connects to the endpoint, then writes and deletes a marker where
  the run will be kept: an unreachable endpoint, a missing bucket or missing rights stop the run in one
  line naming the storage and its endpoint.
* A restart (after a worker failure, or the command run again on a machine without the working copy)
  resumes from Ray's latest checkpoint in the store: rank 0 downloads it into the run directory unless it
  is there already (:func:`local_copy`).
* Only Ray Train uploads: ``--storage`` with ``--launcher none`` is a ConfigError.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from rs_formats.location import StorageError, resolve
from rs_formats.settings import ConfigError

from .run_dir import CHECKPOINTS, FINAL

if TYPE_CHECKING:
    from .config import TrainConfig

#: Written and deleted by :func:`check`.
MARKER = ".rs-clip-train-storage-check"


def location(run: TrainConfig) -> tuple[str, str]:
    """Ray's ``(storage_path, name)`` for the run."""
    run_dir = Path(run.out)
    return (run.storage if run.storage is not None else str(run_dir.parent)), run_dir.name


def check(run: TrainConfig) -> None:
    """Fail fast, before Ray starts, on a ``--storage`` the run cannot be kept in."""
    if run.storage is None:
        return
    storage, name = location(run)
    try:
        where = resolve(storage) / name
        with where.failing("write the run there"):
            where.fs.create_dir(where.path)
            with where.fs.open_output_stream(f"{where.path}/{MARKER}"):
                pass
            where.fs.delete_file(f"{where.path}/{MARKER}")
    except StorageError as exc:
        raise ConfigError(f"--storage {storage}: {exc.strerror}") from None


def upload_run_files(run_dir: Path) -> None:
    """Copy the run directory's files, but for its checkpoints (Ray uploads those), to the stored run.

    Runs in a Ray Train worker (rank 0), with Ray's own view of the storage."""
    import pyarrow.fs
    import ray.train

    storage = ray.train.get_context().get_storage()
    local = pyarrow.fs.LocalFileSystem()
    for path in sorted(run_dir.rglob("*")):
        rel = path.relative_to(run_dir)
        if (
            rel.parts[0] in (CHECKPOINTS, FINAL)
            or rel.name.startswith(".")
            or path.is_symlink()
            or not path.is_file()
        ):
            continue
        pyarrow.fs.copy_files(
            str(path),
            f"{storage.experiment_fs_path}/{rel.as_posix()}",
            source_filesystem=local,
            destination_filesystem=storage.storage_filesystem,
        )


def local_copy(checkpoint: Any, run_dir: Path) -> Path:
    """A Ray ``Checkpoint`` as a checkpoint directory in the run directory: itself when it is on this
    filesystem, else its copy (downloaded unless the run directory has it, published atomically)."""
    import pyarrow.fs

    if isinstance(checkpoint.filesystem, pyarrow.fs.LocalFileSystem):
        return Path(checkpoint.path)
    name = PurePosixPath(checkpoint.path).name
    dest = run_dir / CHECKPOINTS / name
    if not dest.is_dir():
        staging = dest.with_name(f".{name}.download")  # hidden: dropped at start-up if left unfinished
        shutil.rmtree(staging, ignore_errors=True)
        checkpoint.to_directory(str(staging))
        os.replace(staging, dest)
    return dest
