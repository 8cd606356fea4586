"""The function each Ray Train worker runs: set up the device, agree on a resume point, train."""

from __future__ import annotations

import contextlib
import logging
import sys
from typing import Any

import torch

from .config import TrainConfig


def train_func(config: dict[str, Any]) -> None:
    """Ray Train entry point: ``config`` holds the run (as a dict) and launcher-computed facts."""
    # Ray forwards what workers print to the driver's stdout, which carries the command's product (the
    # final checkpoint's path); what libraries print while training (DeepSpeed does) goes to stderr.
    with contextlib.redirect_stdout(sys.stderr):
        _train(config)


def _train(config: dict[str, Any]) -> None:
    from .engine import ensure_accelerator_env

    ensure_accelerator_env()
    import ray
    import ray.train
    import ray.train.torch

    from .checkpoints import resume_point
    from .trainer import Trainer

    _quiet_libraries()
    run = TrainConfig.from_dict(config["run"])
    ctx = ray.train.get_context()
    rank, world = ctx.get_world_rank(), ctx.get_world_size()
    device = ray.train.torch.get_device()
    if device.type == "cuda":
        torch.cuda.set_device(device)
    resume = resume_point(run, config.get("resume_from"))
    trainer = Trainer(
        run,
        config["total_steps"],
        rank=rank,
        world=world,
        device=device,
        resume_from=resume,
        dataset_info=config.get("dataset_info"),
        node_id=ray.get_runtime_context().get_node_id(),
    )
    trainer.fit(config.get("step_callback"), config.get("steps_per_epoch"))


def _quiet_libraries() -> None:
    # open_clip narrates model creation at INFO on the root logger; keep worker output to what matters.
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("DeepSpeed").setLevel(logging.WARNING)
    try:
        from deepspeed.utils import logger

        logger.setLevel(logging.WARNING)
    except ImportError:
        pass
