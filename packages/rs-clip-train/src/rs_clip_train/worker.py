"""The training function every worker runs, whatever started it (Ray Train, torchrun, or nothing).

``config`` is plain data (the run as a dict and the facts the driver worked out), so that Ray can ship
it to other nodes; the launcher's services come through a :class:`~rs_clip_train.session.Session`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from .config import TrainConfig

if TYPE_CHECKING:
    from .session import Session
    from .trainer import StepCallback


def loop_config(run: TrainConfig, facts: dict[str, Any], resume: Path | None,
                step_callback: StepCallback | None) -> dict[str, Any]:
    """What the driver hands every worker."""
    return {"run": run.to_dict(), "total_steps": facts["total_steps"], "steps_per_epoch": facts["steps_per_epoch"],
            "dataset_info": facts["dataset_info"], "resume_from": str(resume) if resume is not None else None,
            "step_callback": step_callback}


def train(config: dict[str, Any], session: Session) -> Path | None:
    """Train one worker's part of the run; returns the last checkpoint written."""
    from .checkpoints import resume_point
    from .engine import ensure_accelerator_env
    from .trainer import Trainer

    ensure_accelerator_env()
    quiet_libraries()
    run = TrainConfig.from_dict(config["run"])
    if session.device.type == "cuda":
        torch.cuda.set_device(session.device)
    resume = resume_point(run, config.get("resume_from"), session.restored_checkpoint())
    trainer = Trainer(run, config["total_steps"], session=session, resume_from=resume,
                      dataset_info=config.get("dataset_info"))
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
