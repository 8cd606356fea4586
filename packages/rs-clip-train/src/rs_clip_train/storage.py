"""Where a run under Ray Train is kept: its run directory (the default), or ``--storage``, e.g. S3.

Decisions:

* By default Ray Train's storage is the run directory itself (Ray's ``storage_path`` is its parent, the
  run's name its name), on a filesystem every node shares: checkpoints are registered with Ray where they
  are written, and nothing is copied.
* ``--storage URI`` (``s3://bucket/prefix``, any URI pyarrow opens, or a shared path) is Ray's
  ``storage_path``: the run is kept at ``URI/<name of --out>`` in the run directory's layout
  (``run.yaml``, ``metrics.jsonl``, the trackers' files, ``checkpoints/step-N/``, and ``final/``, a copy
  of the last checkpoint without its resume state, since a store has no links). Nodes then share nothing
  but the store: ``--out`` is a node-local working copy (run.yaml, metrics.jsonl, logs/) on the driver's
  node, and a worker on another node works in :func:`scratch`.
* A checkpoint is assembled in the store by Ray Train's own per-rank upload: every rank stages its part
  (its engine state and RNG state under ``train_state/``; rank 0 also the weights, config, card and
  manifest) in a hidden folder of its node's working copy, and reports it under the same
  ``checkpoints/step-N`` name; Ray uploads each part into that one folder (synchronously: the stagings
  are deleted once uploaded) and registers the checkpoint only when every rank's part is there. That
  record is the commit point, so no protocol of our own is needed: a checkpoint Ray never registered is
  never resumed from. Rank 0's manifest lists every rank's files with their sha256 (gathered before it
  is written), so a part that is missing or altered in the store fails verification.
* Resuming (after a worker failure, or the command run again on any machine) starts from Ray's latest
  registered checkpoint: every rank downloads all of it into a hidden folder of its own working copy
  (:func:`local_copy`), where each file is verified against the manifest as it is read
  (:mod:`rs_clip_train.resume_state`), and deletes it once loaded. All of it: DeepSpeed's ZeRO-1/2
  loader reads every rank's optimizer shard, not only the rank's own. Rank 0 first replaces its node's
  ``metrics.jsonl`` and trackers' files with the stored ones (:func:`fetch_run_files`): the store holds
  the record up to the last checkpoint, while a node's copy may be an earlier attempt's (a restart can
  move rank 0 to another node and back), so the run's record continues wherever rank 0 runs.
* ``run.yaml`` is written to the store by the driver; ``metrics.jsonl`` and the trackers' files are
  copied by rank 0 after each checkpoint and at the end, then ``final/`` (:func:`publish_final`, the
  manifest last: a reader finding no manifest sees no checkpoint).
* The store is reached the way Ray reaches it, through pyarrow, and resolved as every stored location is
  (:mod:`rs_formats.location`: endpoints, credentials, reachability).
* Before any worker starts, :func:`check` connects to the endpoint, then writes and deletes a marker where
  the run will be kept: an unreachable endpoint, a missing bucket or missing rights stop the run in one
  line naming the storage and its endpoint.
* Only Ray Train uploads: ``--storage`` with ``--launcher none`` is a ConfigError.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from rs_formats.checkpoint import MANIFEST
from rs_formats.location import Location, StorageError, resolve
from rs_formats.settings import ConfigError

from .run_dir import CHECKPOINTS, FINAL, METRICS, RUN_YAML
from .tracking import IDS_FILE

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


def scratch(out: str, storage: str, on_driver_node: bool) -> Path:
    """A worker's working copy under ``--storage``: ``--out`` on the driver's node, else a folder in its
    own node's temporary directory (nothing is shared between nodes but the store), named after the run
    and keyed by where it is stored, so that two runs of the same name on one node never share one."""
    if on_driver_node:
        return Path(out)
    name = Path(out).name
    key = hashlib.sha256(f"{storage.rstrip('/')}/{name}".encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / "rs-clip-train" / f"{name}-{key}"


def stored_run(run: TrainConfig) -> Location:
    """Where the run is kept in ``--storage`` (from the driver)."""
    storage, name = location(run)
    return resolve(storage) / name


def _ray_storage() -> tuple[Any, str]:
    """Ray's filesystem and the stored run's path on it, as a Ray Train worker sees them."""
    import ray.train

    storage = ray.train.get_context().get_storage()
    return storage.storage_filesystem, storage.experiment_fs_path


def _run_file(rel: PurePosixPath) -> bool:
    """Whether ``rel`` is one of the run's files kept beside its checkpoints (not Ray's own, not a
    checkpoint, not hidden)."""
    if rel.parts[0] in (CHECKPOINTS, FINAL) or any(p.startswith(".") for p in rel.parts):
        return False
    return len(rel.parts) > 1 or rel.name in (RUN_YAML, METRICS, IDS_FILE)


def _local_run_files(run_dir: Path) -> list[tuple[Path, PurePosixPath]]:
    """The run's files in its working copy, found without walking into checkpoints or hidden folders: the
    other ranks of this node create and delete their stagings there meanwhile."""
    found = []
    for top, dirs, files in os.walk(run_dir):
        here = PurePosixPath(Path(top).relative_to(run_dir).as_posix())
        dirs[:] = [d for d in dirs if not d.startswith(".") and (here.parts or d not in (CHECKPOINTS, FINAL))]
        for name in files:
            path, rel = Path(top) / name, here / name
            if _run_file(rel) and not path.is_symlink() and path.is_file():
                found.append((path, rel))
    return sorted(found)


def upload_run_files(run_dir: Path) -> None:
    """Copy the run directory's files, but for its checkpoints (Ray uploads those), to the stored run.

    Runs in a Ray Train worker (rank 0), with Ray's own view of the storage."""
    import pyarrow.fs

    fs, root = _ray_storage()
    for path, rel in _local_run_files(run_dir):
        pyarrow.fs.copy_files(
            str(path),
            f"{root}/{rel}",
            source_filesystem=pyarrow.fs.LocalFileSystem(),
            destination_filesystem=fs,
        )


def fetch_run_files(run_dir: Path) -> None:
    """Rank 0, as an attempt starts: the stored metrics.jsonl and trackers' files over its node's copies,
    so that this attempt appends to the run's record (none stored yet: the node's copies stay)."""
    import pyarrow.fs

    fs, root = _ray_storage()
    for info in fs.get_file_info(pyarrow.fs.FileSelector(root, recursive=True, allow_not_found=True)):
        rel = PurePosixPath(info.path[len(root) :].lstrip("/"))
        if info.type != pyarrow.fs.FileType.File or not _run_file(rel) or rel.name == RUN_YAML:
            continue
        (run_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        pyarrow.fs.copy_files(
            info.path,
            str(run_dir / rel),
            source_filesystem=fs,
            destination_filesystem=pyarrow.fs.LocalFileSystem(),
        )


def publish_final(checkpoint: str) -> None:
    """``final/`` in the stored run: a copy of its stored checkpoint ``checkpoint`` (its name) without the
    resume state, the manifest written last (rank 0, at the end of the run)."""
    import pyarrow.fs

    fs, root = _ray_storage()
    src, dest = f"{root}/{CHECKPOINTS}/{checkpoint}", f"{root}/{FINAL}"
    if fs.get_file_info(f"{dest}/{MANIFEST}").type == pyarrow.fs.FileType.File:
        fs.delete_file(f"{dest}/{MANIFEST}")  # the previous final, no longer complete
    fs.create_dir(dest)
    infos = fs.get_file_info(pyarrow.fs.FileSelector(src))
    files = sorted(
        (i.base_name for i in infos if i.type == pyarrow.fs.FileType.File), key=lambda n: n == MANIFEST
    )
    for name in files:
        fs.copy_file(f"{src}/{name}", f"{dest}/{name}")


def local_copy(checkpoint: Any, root: Path, rank: int) -> Path:
    """A Ray ``Checkpoint`` as a checkpoint directory of this worker: itself when it is on this
    filesystem, else its download into a hidden folder of ``root`` (this rank's own: ranks on one node
    share a working copy), which :meth:`~rs_clip_train.checkpointing.Checkpoints.prepare` drops once loaded."""
    import pyarrow.fs

    if isinstance(checkpoint.filesystem, pyarrow.fs.LocalFileSystem):
        return Path(checkpoint.path)
    dest = root / f".{PurePosixPath(checkpoint.path).name}.rank-{rank}.restored"
    shutil.rmtree(dest, ignore_errors=True)
    checkpoint.to_directory(str(dest))
    return dest
