"""The training function every worker runs, whatever started it (Ray Train, torchrun, or nothing).

``config`` is plain data (the run as a dict and the facts the driver worked out), so that Ray can ship
it to other nodes; the launcher's services come through a :class:`~rs_clip_train.worker_session.Session`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from .config import TrainConfig

if TYPE_CHECKING:
    from .train_loop import StepCallback
    from .worker_session import Session


def loop_config(
    run: TrainConfig, facts: dict[str, Any], resume: Path | None, step_callback: StepCallback | None
) -> dict[str, Any]:
    """What the driver hands every worker."""
    return {
        "run": run.to_dict(),
        "total_steps": facts["total_steps"],
        "steps_per_epoch": facts["steps_per_epoch"],
        "dataset_info": facts["dataset_info"],
        "resume_from": str(resume) if resume is not None else None,
        "step_callback": step_callback,
    }


def train(config: dict[str, Any], session: Session) -> Path | None:
    """Train one worker's part of the run; returns the last checkpoint written."""
    from .checkpointing import resume_point
    from .deepspeed_engine import ensure_accelerator_env
    from .train_loop import Trainer

    ensure_accelerator_env()
    quiet_libraries()
    run = TrainConfig.from_dict(config["run"])
    if session.device.type == "cuda":
        torch.cuda.set_device(session.device)
    resume = resume_point(run, config.get("resume_from"), session.restored_checkpoint())
    trainer = Trainer(
        run,
        config["total_steps"],
        session=session,
        resume_from=resume,
        dataset_info=config.get("dataset_info"),
    )
    return trainer.fit(config.get("step_callback"), config.get("steps_per_epoch"))


def quiet_libraries() -> None:
    # open_clip narrates model creation at INFO on the root logger; keep worker output to what matters.
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("DeepSpeed").setLevel(logging.WARNING)
    try:
        from deepspeed.utils import logger

        logger.setLevel(logging.WARNING)
    except ImportError:
        pass


@contextlib.contextmanager
def library_output(path: Path, prog: str) -> Iterator[None]:
    """Everything this process writes to its stdout and stderr goes to ``path`` (appended: a restarted
    worker adds to it) while the block runs, except the tool's own log records, which still reach the
    console in the tool's format (``prog``).

    Redirected at the file descriptors, not ``sys.stdout``: DeepSpeed prints its op builds, torch's
    handlers hold the original stream, and C++ code (Ray's core worker, gloo, NCCL) writes to fd 2.
    """
    from rs_formats import console

    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(2), "w", buffering=1)
    log_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        with contextlib.redirect_stderr(terminal):
            console.setup(prog)  # our records on the original stderr, which Ray forwards to the driver
        with contextlib.redirect_stdout(sys.stderr):  # print() too: stdout is the driver's product
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, log_fd):
            os.close(fd)
        console.setup(prog)
        terminal.close()
