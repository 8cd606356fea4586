"""What a training worker needs from whatever started it, behind one small interface.

The training function (:func:`rs_clip_train.worker.train`) sees only a :class:`Session`: its rank and
world, its device, where to report a step's metrics and checkpoint, and the checkpoint a restart of the
launcher resumes from. So the same function runs under Ray Train and as plain processes:

- :class:`RaySession` (``--launcher ray``): Ray Train's context; every checkpoint is registered with Ray
  (in place, nothing copied), and after a worker dies Ray's ``FailureConfig`` restarts the worker group,
  which then resumes from the newest of Ray's and the run directory's checkpoints.
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

    def report(self, metrics: dict[str, Any], checkpoint: Path | None) -> None:
        """A checkpoint was published (``checkpoint`` on rank 0, None elsewhere; collective)."""

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

    def report(self, metrics: dict[str, Any], checkpoint: Path | None) -> None:
        pass  # metrics.jsonl and the run directory are the record; nothing else keeps one

    def restored_checkpoint(self) -> Path | None:
        return None


class RaySession:
    """A Ray Train worker (created inside the training function Ray runs)."""

    def __init__(self) -> None:
        import ray
        import ray.train
        import ray.train.torch

        ctx = ray.train.get_context()
        self.rank, self.world = ctx.get_world_rank(), ctx.get_world_size()
        self.device = ray.train.torch.get_device()
        self.node_id = ray.get_runtime_context().get_node_id()

    def report(self, metrics: dict[str, Any], checkpoint: Path | None) -> None:
        import ray.train
        from ray.train import CheckpointUploadMode

        ckpt = ray.train.Checkpoint.from_directory(str(checkpoint)) if checkpoint is not None else None
        # The checkpoint already sits in the run directory (Ray's storage): register it, copy nothing.
        ray.train.report(metrics, checkpoint=ckpt, checkpoint_upload_mode=CheckpointUploadMode.NO_UPLOAD)

    def restored_checkpoint(self) -> Path | None:
        import ray.train

        ckpt = ray.train.get_checkpoint()
        return Path(ckpt.path) if ckpt is not None else None
