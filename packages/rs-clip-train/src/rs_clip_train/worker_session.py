"""What a training worker needs from whatever started it, behind one small interface.

The training function (:func:`rs_clip_train.worker.train`) sees only a :class:`Session`: its rank and
world, its device, where to report every logged step's metrics and each checkpoint, and the checkpoint a
restart of the launcher resumes from. So the same function runs under Ray Train and as plain processes:

- :class:`RaySession` (``--launcher ray``): Ray Train's context; every logged step reaches Ray (its
  callbacks, and Ray Tune above it), every checkpoint is registered with Ray (in place, nothing copied;
  or uploaded to ``--storage``, :mod:`rs_clip_train.storage`), and after a worker dies Ray's
  ``FailureConfig`` restarts the worker group, which then resumes from the newest of Ray's and the run
  directory's checkpoints.
- :class:`PlainSession` (``--launcher none``): torch.distributed alone, as torchrun (or one process by
  itself) set it up; metrics.jsonl is the whole report, and restarts are torchrun's (``--max-restarts``):
  a restarted process resumes from the run directory's newest checkpoint, as a rerun of the command does.

Importing this module imports neither Ray nor DeepSpeed; :class:`RaySession` imports Ray when created.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import torch
import torch.distributed as dist


class Session(Protocol):
    rank: int
    world: int
    device: torch.device
    #: Where this worker runs (Ray's node id; the host name for plain processes), for the start record.
    node_id: str

    def report(self, metrics: dict[str, Any], checkpoint: Path | None = None) -> None:
        """A logged step's metrics, with the checkpoint published at that step if any (on rank 0, None
        elsewhere; with ``--storage``, every rank's part of it). Collective: every rank reports every
        logged step."""

    def restored_checkpoint(self) -> Path | None:
        """The checkpoint the launcher restarted this attempt from, if it keeps one."""


class PlainSession:
    """A worker of plain processes: rank and world from the initialised process group (or 0 of 1)."""

    def __init__(self, device: torch.device):
        import socket

        initialised = dist.is_initialized()
        self.rank = dist.get_rank() if initialised else 0
        self.world = dist.get_world_size() if initialised else 1
        self.device = device
        self.node_id = socket.gethostname()

    def report(self, metrics: dict[str, Any], checkpoint: Path | None = None) -> None:
        pass  # metrics.jsonl, the trackers and the run directory are the record; nothing else keeps one

    def restored_checkpoint(self) -> Path | None:
        return None


class RaySession:
    """A Ray Train worker (created inside the training function Ray runs) of the run in ``run_dir``,
    kept in Ray's storage ``storage`` (None: the run directory itself)."""

    def __init__(self, run_dir: Path, storage: str | None = None) -> None:
        import ray
        import ray.train
        import ray.train.torch

        ctx = ray.train.get_context()
        self.rank, self.world = ctx.get_world_rank(), ctx.get_world_size()
        self.device = ray.train.torch.get_device()
        self.node_id = ray.get_runtime_context().get_node_id()
        self.run_dir, self.storage = run_dir, storage

    def report(self, metrics: dict[str, Any], checkpoint: Path | None = None) -> None:
        import ray.train
        from ray.train import CheckpointUploadMode

        if checkpoint is None:
            ray.train.report(metrics)
        elif self.storage is None:
            # The checkpoint already sits in the run directory (Ray's storage): register it, copy nothing.
            ray.train.report(
                metrics,
                checkpoint=ray.train.Checkpoint.from_directory(str(checkpoint)),
                checkpoint_upload_mode=CheckpointUploadMode.NO_UPLOAD,
            )
        else:
            from .run_dir import CHECKPOINTS
            from .storage import upload_run_files

            # Every rank's part, uploaded before training goes on into the same stored checkpoint, which
            # Ray registers once all are there (rs_clip_train.storage); then the run's other files follow.
            ray.train.report(
                metrics,
                checkpoint=ray.train.Checkpoint.from_directory(str(checkpoint)),
                checkpoint_dir_name=f"{CHECKPOINTS}/{checkpoint.name}",
                checkpoint_upload_mode=CheckpointUploadMode.SYNC,
                delete_local_checkpoint_after_upload=True,
            )
            if self.rank == 0:
                upload_run_files(self.run_dir)

    def restored_checkpoint(self) -> Path | None:
        """Ray's checkpoint to resume from, in the run directory (on rank 0, which decides; None elsewhere);
        with ``--storage``, downloaded by every rank into its own working copy."""
        import ray.train

        ckpt = ray.train.get_checkpoint()
        if ckpt is None or (self.rank != 0 and self.storage is None):
            return None
        from .run_dir import CHECKPOINTS
        from .storage import local_copy

        return local_copy(ckpt, self.run_dir / CHECKPOINTS, self.rank)
