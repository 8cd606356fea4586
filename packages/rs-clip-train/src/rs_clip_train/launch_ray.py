"""``--launcher ray``: the run as a Ray Train ``TorchTrainer`` on a private local Ray or a cluster.

Without an address (``--address`` or ``RAY_ADDRESS``, which ``ray job submit`` sets) the command starts
a private local Ray for the run and stops it at the end: on a laptop nothing has to be set up first
(:func:`rs_formats.cluster.ray_session`, shared with rs-annotate's and rs-clip-eval's Ray engines). Ray
Train starts ``--workers`` workers, each running :func:`rs_clip_train.worker.train` with a
:class:`~rs_clip_train.session.RaySession`, and restarts them from the last checkpoint after a failure
(``--max-failures``).
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rs_formats.cluster import ray_session

from .config import ConfigError, TrainConfig
from .launcher import (
    TrainingFailed,
    final_checkpoint,
    log_start,
    open_run_dir,
    prepare,
    progress_bar,
    worker_message,
)
from .run_dir import LOGS

if TYPE_CHECKING:
    from .trainer import StepCallback

log = logging.getLogger(__name__)

#: Ray Train's own messages on the console (which workers start, process-group set-up) only when they
#: matter; every level is in Ray's session logs.
TRAIN_LOG_LEVEL = "WARNING"
#: For a private local Ray: no watcher of node preemption (a single machine is not drained by a cloud
#: provider), whose actor Ray 2.60 creates in a way its core worker logs as an error on every run.
PRIVATE_RAY_ENV = {"RAY_TRAIN_ENABLE_PREEMPTION_WATCHER": "0"}


def _gpus_per_worker(run: TrainConfig) -> float:
    if run.gpus_per_worker is not None:
        return run.gpus_per_worker
    import ray

    return 1.0 if ray.cluster_resources().get("GPU", 0) >= 1 else 0.0


def check_resources(workers: int, per_worker: dict[str, float]) -> None:
    """Ray would wait forever for resources the cluster does not have: say so instead."""
    import ray

    have = ray.cluster_resources()
    for name, amount in per_worker.items():
        if workers * amount > have.get(name, 0):
            hint = " (fewer --workers, or a smaller --cpus-per-worker)" if name == "CPU" else ""
            raise ConfigError(
                f"{workers} workers x {amount:g} {name} need {workers * amount:g} {name}, but the Ray "
                f"cluster has {have.get(name, 0):g}{hint}"
            )


def train_func(config: dict[str, Any]) -> None:
    """What each Ray Train worker runs."""
    from rs_formats import console

    from .cli import PROG
    from .run_dir import LOGS
    from .session import RaySession
    from .worker import library_output, train

    console.setup(PROG)  # a fresh process: what it logs (a skipped row) in the tool's own format
    session = RaySession()
    # Ray forwards what workers print to the driver; what libraries print while training (DeepSpeed's op
    # builds, torch's warnings) goes to the run's logs/, the tool's own records still to the console.
    with library_output(Path(config["run"]["out"]) / LOGS / f"worker-{session.rank}.log", PROG):
        train(config, session)


def launch(
    run: TrainConfig, *, step_callback: StepCallback | None, progress: bool, num_cpus: int | None
) -> Path:
    from .worker import loop_config

    run, facts = prepare(run)
    resume, done = open_run_dir(run, facts)
    if done:
        return resume
    run_dir = Path(run.out)
    # The dashboard serves Ray's state API, which Ray Train's controller polls.
    with ray_session(run.address, num_cpus, dashboard=True, env=PRIVATE_RAY_ENV) as local:
        from ray.train import CheckpointConfig, FailureConfig, LoggingConfig, RunConfig, ScalingConfig
        from ray.train.torch import TorchTrainer

        gpus = _gpus_per_worker(run)
        resources = {"CPU": run.cpus_per_worker} | ({"GPU": gpus} if gpus else {})
        if local:  # a cluster may still grow (autoscaler); a private local Ray will not
            check_resources(run.workers, resources)
        trainer = TorchTrainer(
            train_func,
            train_loop_config=loop_config(run, facts, resume, step_callback),
            scaling_config=ScalingConfig(
                num_workers=run.workers, use_gpu=gpus > 0, resources_per_worker=resources
            ),
            run_config=RunConfig(
                name=run_dir.name,
                storage_path=str(run_dir.parent),
                failure_config=FailureConfig(max_failures=run.max_failures),
                # Checkpoints are pruned by the train loop (keep last K), which also knows earlier attempts'.
                checkpoint_config=CheckpointConfig(num_to_keep=None),
                logging_config=LoggingConfig(log_level=TRAIN_LOG_LEVEL),
            ),
        )
        log_start(run, facts, resume)
        log.info("what DeepSpeed, torch and Ray Train print in the workers: %s", run_dir / LOGS / "worker-*.log")
        bar = progress_bar(run, facts, progress)
        try:
            with bar if bar is not None else contextlib.nullcontext():
                result = trainer.fit()
        except Exception as exc:  # noqa: BLE001 - Ray wraps the worker's error; show its message, not Ray's stack
            raise TrainingFailed(worker_message(exc)) from None
        if getattr(result, "error", None) is not None:
            raise TrainingFailed(worker_message(result.error))
    return final_checkpoint(run)
