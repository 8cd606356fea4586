"""``--launcher none``: training in the processes torchrun started, or in this one process alone. No Ray.

``torchrun --nproc-per-node N -m rs_clip_train fit ...`` runs the whole command in every process:

1. each process runs the checks that need no worker (the same checks give the same error everywhere, so
   a bad input stops every process before anything starts);
2. the processes join torch.distributed's process group from torchrun's variables (``env://``: gloo on
   a CPU, NCCL with one GPU per process, ``LOCAL_RANK`` picking it), or a process group of one;
3. rank 0 opens the run directory and checks the resume state, and tells the others (an error there is
   printed once, by rank 0; the others exit with the same status quietly);
4. all train with :func:`rs_clip_train.worker.train` and a :class:`~rs_clip_train.worker_session.PlainSession`.

The number of workers is torchrun's world size (``--workers`` may be left at 1 or say the same). Ray-only
settings (``--address``, ``--cpus-per-worker``, ``--max-failures``) do not apply (``--storage`` is refused): torchrun restarts failed
processes itself (``--max-restarts``), and a restarted process resumes from the run directory's newest
checkpoint like a rerun of the command. ``--gpus-per-worker 0`` trains on the CPU on a GPU machine.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rs_formats import console

from .config import ConfigError, TrainConfig
from .launch_common import (
    TrainingFailed,
    final_checkpoint,
    log_start,
    open_run_dir,
    prepare,
    progress_bar,
    under_torchrun,
)

if TYPE_CHECKING:
    import torch

    from .train_loop import StepCallback


def process_rank() -> int:
    """This process's rank among torchrun's (0 when alone)."""
    return int(os.environ["RANK"]) if under_torchrun() else 0


def with_world(run: TrainConfig) -> TrainConfig:
    """The run with torchrun's world size as its number of workers."""
    world = int(os.environ["WORLD_SIZE"]) if under_torchrun() else 1
    if run.workers not in (1, world):
        raise ConfigError(
            f"--workers {run.workers}, but {world} processes were started (WORLD_SIZE): without a "
            f"launcher the workers are torchrun's processes; leave --workers out or give {world}"
        )
    run = TrainConfig.from_dict(run.to_dict())
    run.workers = world
    return run


def _device(run: TrainConfig) -> torch.device:
    import torch

    if torch.cuda.is_available() and run.gpus_per_worker != 0:
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


@contextlib.contextmanager
def _process_group(device: torch.device) -> Iterator[None]:
    """torchrun's process group (env://), or a group of this one process (an in-memory store, no port).

    A process group that is already there belongs to the program that calls :func:`~rs_clip_train.fit`
    (several runs in one job, a test): it is used as it is and left in place, as DeepSpeed expects (it
    keeps the groups it derives from it for the life of the process)."""
    import torch.distributed as dist

    if device.type == "cuda":
        import torch

        torch.cuda.set_device(device)
    if dist.is_initialized():
        if "LOCAL_RANK" in os.environ or dist.get_world_size() > 1:
            yield
            return
        # DeepSpeed reads LOCAL_RANK whatever set up the process group: a caller's group of one may not set it.
        os.environ["LOCAL_RANK"] = "0"
        try:
            yield
        finally:
            os.environ.pop("LOCAL_RANK", None)
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    alone = not under_torchrun()
    if alone:
        # DeepSpeed reads LOCAL_RANK whatever set up the process group; torchrun would have set it.
        saved = os.environ.get("LOCAL_RANK")
        os.environ["LOCAL_RANK"] = "0"
        dist.init_process_group(backend, store=dist.HashStore(), rank=0, world_size=1)
    else:
        dist.init_process_group(backend, init_method="env://", timeout=datetime.timedelta(minutes=30))
    try:
        yield
    finally:
        dist.destroy_process_group()
        if alone:
            if saved is None:
                os.environ.pop("LOCAL_RANK", None)
            else:
                os.environ["LOCAL_RANK"] = saved


def _rank0_decides(fn: Any) -> Any:
    """``fn()`` on rank 0, its result (or its error) on every rank; others exit quietly on an error."""
    from .distributed import broadcast_from_rank0, is_rank0

    outcome: tuple[str, Any] = ("ok", None)
    if is_rank0():
        try:
            outcome = ("ok", fn())
        except Exception as exc:  # noqa: BLE001 - re-raised below, on every rank
            outcome = ("error", exc)
    outcome = broadcast_from_rank0(outcome)
    if outcome[0] == "ok":
        return outcome[1]
    if is_rank0():
        raise outcome[1]
    raise SystemExit(2 if isinstance(outcome[1], console.INPUT_ERRORS) else 1)  # rank 0 says why


def launch(run: TrainConfig, *, step_callback: StepCallback | None, progress: bool) -> Path:
    from .deepspeed_engine import ensure_accelerator_env
    from .worker import loop_config, train
    from .worker_session import PlainSession

    try:
        if run.storage is not None:
            raise ConfigError(
                f"--storage {run.storage}: needs Ray Train (--launcher ray), which uploads the run; "
                "without a launcher the run directory (--out) is the run's whole record"
            )
        run, facts = prepare(with_world(run))
    except console.INPUT_ERRORS:
        if process_rank() != 0:
            raise SystemExit(2) from None  # every process finds the same error: rank 0 says it
        raise
    ensure_accelerator_env()
    device = _device(run)
    with _process_group(device):
        resume, done = _rank0_decides(lambda: open_run_dir(run, facts))
        if done:
            return resume
        session = PlainSession(device)
        bar = None
        if session.rank == 0:
            log_start(run, facts, resume)
            bar = progress_bar(run, facts, progress)
        # stdout carries the command's product (the final checkpoint); what DeepSpeed prints goes to stderr.
        with bar if bar is not None else contextlib.nullcontext(), contextlib.redirect_stdout(sys.stderr):
            try:
                train(loop_config(run, facts, resume, step_callback), session)
            except Exception as exc:  # noqa: BLE001 - as under Ray: one line naming the error
                raise TrainingFailed(f"{type(exc).__name__}: {' '.join(str(exc).split())}") from exc
    return final_checkpoint(run)
