"""``--launcher ray``: the run as a Ray Train ``TorchTrainer`` on a private local Ray or a cluster.

Without an address (``--address`` or ``RAY_ADDRESS``, which ``ray job submit`` sets) the command starts
a private local Ray for the run and stops it at the end: on a laptop nothing has to be set up first
(:func:`rs_formats.cluster.ray_session`, shared with rs-annotate's and rs-clip-eval's Ray engines). Ray
Train starts ``--workers`` workers, each running :func:`rs_clip_train.worker.train` with a
:class:`~rs_clip_train.worker_session.RaySession`, and restarts them from the last checkpoint after a failure
(``--max-failures``).

:func:`make_trainer` gives the ``TorchTrainer`` itself, checked and configured, for Ray Tune or Ray Train
callbacks; the run's storage is :mod:`rs_clip_train.storage`'s.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rs_formats.cluster import ray_session

from .config import PROG, ConfigError, TrainConfig
from .launch_common import (
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
    from ray.train.torch import TorchTrainer

    from .train_loop import StepCallback

log = logging.getLogger(__name__)

#: Ray Train's own messages on the console (which workers start, process-group set-up) only when they
#: matter; every level is in Ray's session logs.
TRAIN_LOG_LEVEL = "WARNING"
#: For a private local Ray, which exists only for this run:
#: * Ray Train takes a worker's report (every logged step reaches it) only when its controller polls the
#:   workers, every 2 s by default, and a worker's queue holds one: a worker logging several steps a second
#:   waits for each poll (bench/RESULTS.md, the demo). Polled every 0.2 s here.
#: * Its workers run at the priority of the command that started them, not Ray's nice 15 (meant to keep a
#:   shared head node's daemons responsive).
#: * No watcher of node preemption (a single machine is not drained by a cloud provider), whose actor Ray
#:   2.60 creates in a way its core worker logs as an error on every run.
PRIVATE_RAY_ENV = {
    "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S": "0.2",
    "RAY_worker_niceness": "0",
    "RAY_TRAIN_ENABLE_PREEMPTION_WATCHER": "0",
}


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

    from .worker import library_output, train
    from .worker_session import RaySession

    console.setup(PROG)  # a fresh process: what it logs (a skipped row) in the tool's own format
    run_dir, storage = Path(config["run"]["out"]), config["run"].get("storage")
    session = RaySession(run_dir, storage)
    if storage is not None:  # nodes share only the store: this worker's working copy is its node's own
        from .storage import fetch_run_files, scratch

        run_dir = session.run_dir = scratch(str(run_dir), storage, session.node_id == config["driver_node"])
        config = {**config, "run": {**config["run"], "out": str(run_dir)}}
        if session.rank == 0:
            fetch_run_files(run_dir)
    # Ray forwards what workers print to the driver; what libraries print while training (DeepSpeed's op
    # builds, torch's warnings) goes to the run's logs/, the tool's own records still to the console.
    with library_output(run_dir / LOGS / f"worker-{session.rank}.log", PROG):
        last = train(config, session)
    if storage is not None and session.rank == 0:
        from .storage import publish_final, upload_run_files

        upload_run_files(run_dir)  # the end of metrics.jsonl and of the trackers' files
        if last is not None:
            publish_final(last.name)


def make_trainer(
    run: TrainConfig,
    *,
    callbacks: Sequence[Any] = (),
    step_callback: StepCallback | None = None,
) -> TorchTrainer:
    """The run as a Ray Train ``TorchTrainer``, every check that needs no worker done (as :func:`fit`
    does them): ``make_trainer(run).fit()`` trains it, resuming from the run directory's (or the storage's)
    last checkpoint, and returns Ray's ``Result`` (``result.checkpoint`` is the final rs-clip-checkpoint).

    For Ray Tune, or to add Ray Train callbacks (``ray.train.UserCallback``: every logged step's metrics
    reach ``after_report``): ``callbacks`` go to the ``RunConfig``. It connects to Ray like ``ray.init()``
    (``run.address``, else ``RAY_ADDRESS``, else a local Ray) unless Ray is already initialised."""
    import ray

    run, facts = prepare(run)
    resume, _ = open_run_dir(run, facts)
    if not ray.is_initialized():
        ray.init(address=run.address)
    return _trainer(run, facts, resume, step_callback, callbacks)


def _trainer(
    run: TrainConfig,
    facts: dict[str, Any],
    resume: Path | None,
    step_callback: StepCallback | None,
    callbacks: Sequence[Any],
    check: bool = False,
) -> TorchTrainer:
    import ray
    from ray.train import CheckpointConfig, FailureConfig, LoggingConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    from .storage import location
    from .worker import loop_config

    gpus = _gpus_per_worker(run)
    resources = {"CPU": run.cpus_per_worker} | ({"GPU": gpus} if gpus else {})
    if check:
        check_resources(run.workers, resources)
    storage_path, name = location(run)
    return TorchTrainer(
        train_func,
        # The driver's node: there a worker's working copy is --out (with --storage, rs_clip_train.storage).
        train_loop_config={
            **loop_config(run, facts, resume, step_callback),
            "driver_node": ray.get_runtime_context().get_node_id(),
        },
        scaling_config=ScalingConfig(
            num_workers=run.workers, use_gpu=gpus > 0, resources_per_worker=resources
        ),
        run_config=RunConfig(
            name=name,
            storage_path=storage_path,
            failure_config=FailureConfig(max_failures=run.max_failures),
            # In the run directory the train loop prunes checkpoints (keep last K), knowing earlier
            # attempts' too; in a storage Ray prunes its uploaded copies.
            checkpoint_config=CheckpointConfig(num_to_keep=run.keep if run.storage is not None else None),
            callbacks=list(callbacks),
            logging_config=LoggingConfig(log_level=TRAIN_LOG_LEVEL),
        ),
    )


def launch(
    run: TrainConfig, *, step_callback: StepCallback | None, progress: bool, num_cpus: int | None
) -> Path | str:
    run, facts = prepare(run)
    resume, done = open_run_dir(run, facts)
    if done:
        return resume
    # The dashboard serves Ray's state API, which Ray Train's controller polls.
    with ray_session(run.address, num_cpus, dashboard=True, env=PRIVATE_RAY_ENV) as local:
        # A cluster may still grow (autoscaler); a private local Ray will not: check what it holds.
        trainer = _trainer(run, facts, resume, step_callback, (), check=local)
        log_start(run, facts, resume)
        log.info(
            "what DeepSpeed, torch and Ray Train print in the workers: %s",
            Path(run.out) / LOGS / "worker-*.log",
        )
        bar = progress_bar(run, facts, progress)
        try:
            with bar if bar is not None else contextlib.nullcontext():
                result = trainer.fit()
        except Exception as exc:  # noqa: BLE001 - Ray wraps the worker's error; show its message, not Ray's stack
            raise TrainingFailed(worker_message(exc)) from None
        if getattr(result, "error", None) is not None:
            raise TrainingFailed(worker_message(result.error))
    return final_checkpoint(run)
