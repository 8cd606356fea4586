"""Submit a run to Ray Train: checks, the run directory, Ray (local or a cluster), the TorchTrainer.

Without an address (``--address`` or ``RAY_ADDRESS``, which ``ray job submit`` sets) the command starts
a private local Ray for the run and stops it at the end: on a laptop nothing has to be set up first
(:func:`rs_formats.cluster.ray_session`, shared with rs-annotate's and rs-clip-eval's Ray engines).
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rs_formats import console
from rs_formats.cluster import ray_session

from .config import ConfigError, TrainConfig
from .run_dir import FINAL, METRICS, RUN_YAML, latest_checkpoint, link_final

if TYPE_CHECKING:
    from .trainer import StepCallback

log = logging.getLogger(__name__)


class TrainingFailed(RuntimeError):
    """The run stopped with an error (after Ray's restarts, if any, were used up)."""


def _absolute(run: TrainConfig) -> TrainConfig:
    """Workers run in other directories (and on other nodes): every path must be absolute."""
    run = TrainConfig.from_dict(run.to_dict())
    run.out = str(Path(run.out).expanduser().resolve())
    for src in run.data.sources:
        src.path = str(Path(src.path).expanduser().resolve())
    if run.model.init:
        from rs_formats.spec import absolute

        run.model.init = absolute(run.model.init)
    if run.eval_data:
        run.eval_data = str(Path(run.eval_data).expanduser().resolve())
    if Path(run.model.name).expanduser().is_dir():
        run.model.name = str(Path(run.model.name).expanduser().resolve())
    return run


def check_model(run: TrainConfig) -> None:
    """Fail fast, in the driver, on a model or init file that cannot work."""
    import open_clip

    from rs_formats.models import register_tiny_configs

    from .model import open_clip_name

    register_tiny_configs()
    name = run.model.name
    if not Path(name).is_dir() and open_clip.get_model_config(name) is None:
        raise ConfigError(f"unknown model {name!r}: not an open_clip model name nor an rs-clip-checkpoint "
                          "directory (see `python -c 'import open_clip; print(open_clip.list_models())'`)")
    open_clip_name(name)  # validates a checkpoint directory
    if run.model.init:
        from rs_formats.spec import resolve

        resolve(run.model.init, weights=True)  # a missing file, folder or cache entry: one error naming it


def plan(run: TrainConfig) -> dict[str, Any]:
    """Open every dataset (errors name the bad one) and work out the run's length and provenance."""
    from .data import open_caption_dataset

    splits = [run.data.splits_of(s) for s in run.data.sources]
    datasets = [open_caption_dataset(s.path, sp) for s, sp in zip(run.data.sources, splits)]
    rows_of = [sum(ds.num_rows(split) for split in sp) for ds, sp in zip(datasets, splits)]
    rows = sum(rows_of)
    steps_per_epoch = max(1, math.ceil(rows / run.optim.batch_size))
    if run.steps is not None:
        total = run.steps
    else:
        total = max(1, math.ceil((run.epochs if run.epochs is not None else 1.0) * steps_per_epoch))
    sources = [{"name": ds.name, "path": str(ds.path), "manifest_sha256": ds.manifest_sha256(), "splits": sp,
                "rows": n, "weight": s.weight}
               for ds, s, sp, n in zip(datasets, run.data.sources, splits, rows_of)]
    info: dict[str, Any] = {"name": "+".join(s["name"] for s in sources),
                            "manifest_sha256": sources[0]["manifest_sha256"] if len(sources) == 1 else None}
    if len(sources) == 1:
        info["splits"] = splits[0]
    if len(sources) > 1:
        info["sources"] = sources
    return {"rows": rows, "steps_per_epoch": steps_per_epoch, "total_steps": total, "dataset_info": info}


def _gpus_per_worker(run: TrainConfig) -> float:
    if run.gpus_per_worker is not None:
        return run.gpus_per_worker
    import ray

    return 1.0 if ray.cluster_resources().get("GPU", 0) >= 1 else 0.0


def _check_resources(workers: int, per_worker: dict[str, float]) -> None:
    """Ray would wait forever for resources the cluster does not have: say so instead."""
    import ray

    have = ray.cluster_resources()
    for name, amount in per_worker.items():
        if workers * amount > have.get(name, 0):
            hint = " (fewer --workers, or a smaller --cpus-per-worker)" if name == "CPU" else ""
            raise ConfigError(f"{workers} workers x {amount:g} {name} need {workers * amount:g} {name}, but the Ray "
                              f"cluster has {have.get(name, 0):g}{hint}")


class _Progress:
    """The console bar, fed from metrics.jsonl (which every node writes to the shared run directory)."""

    def __init__(self, path: Path, total: int):
        self.path, self.total = path, total
        self.bar = console.progress(total=total, unit="step", desc="train")
        self.offset = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _Progress:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.thread.join()
        self._poll()
        self.bar.close()

    def _run(self) -> None:
        while not self.stop.wait(0.5):
            self._poll()

    def _poll(self) -> None:
        if not self.path.exists():
            return
        with open(self.path) as f:
            f.seek(0, os.SEEK_END)
            if f.tell() < self.offset:  # rewritten by a resumed attempt
                self.offset = 0
            f.seek(self.offset)
            chunk = f.read()
        complete = chunk[: chunk.rfind("\n") + 1]
        self.offset += len(complete.encode())
        for line in complete.splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            self.bar.n = min(int(rec.get("step", self.bar.n)), self.total)
            if "loss" in rec:
                self.bar.set_postfix(loss=f"{rec['loss']:.4f}", lr=f"{rec['lr']:.2e}",
                                     temp=f"{rec['temperature']:.4f}", pairs_s=f"{rec['pairs_per_s']:.0f}",
                                     refresh=False)
            self.bar.refresh()


def fit(run: TrainConfig, *, step_callback: StepCallback | None = None, progress: bool = True,
        num_cpus: int | None = None) -> Path:
    """Train as configured; returns the final rs-clip-checkpoint. Resumes if the run directory has one.

    ``progress``: a bar on stderr while training, shown only on a terminal (and not after --no-progress)."""
    run = _absolute(run.validate())
    check_model(run)
    facts = plan(run)
    if run.eval_data:
        from .evaluate import check

        check(run.eval_data, run.eval_split)
    run_dir = Path(run.out)
    run_dir.mkdir(parents=True, exist_ok=True)
    run.save(run_dir / RUN_YAML)
    resume = latest_checkpoint(run_dir)
    if resume is not None and json.loads((resume / "manifest.json").read_text()).get("step", 0) >= facts["total_steps"]:
        log.info("%s: already trained to step %d (%s); nothing to do", run_dir, facts["total_steps"], resume)
        link_final(run_dir, resume)
        return resume
    # The dashboard serves Ray's state API, which Ray Train's controller polls.
    with ray_session(run.address, num_cpus, dashboard=True) as local:
        from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
        from ray.train.torch import TorchTrainer

        from .worker import train_func

        gpus = _gpus_per_worker(run)
        resources = {"CPU": run.cpus_per_worker} | ({"GPU": gpus} if gpus else {})
        if local:  # a cluster may still grow (autoscaler); a private local Ray will not
            _check_resources(run.workers, resources)
        trainer = TorchTrainer(
            train_func,
            train_loop_config={"run": run.to_dict(), "total_steps": facts["total_steps"],
                               "steps_per_epoch": facts["steps_per_epoch"], "dataset_info": facts["dataset_info"],
                               "resume_from": str(resume) if resume is not None else None,
                               "step_callback": step_callback},
            scaling_config=ScalingConfig(num_workers=run.workers, use_gpu=gpus > 0,
                                         resources_per_worker=resources),
            run_config=RunConfig(
                name=run_dir.name,
                storage_path=str(run_dir.parent),
                failure_config=FailureConfig(max_failures=run.max_failures),
                # Checkpoints are pruned by the train loop (keep last K), which also knows earlier attempts'.
                checkpoint_config=CheckpointConfig(num_to_keep=None),
            ),
        )
        _log_start(run, facts, resume)
        bar = _Progress(run_dir / METRICS, facts["total_steps"]) if console.progress_enabled(progress) else None
        try:
            if bar is not None:
                with bar:
                    result = trainer.fit()
            else:
                result = trainer.fit()
        except Exception as exc:  # noqa: BLE001 - Ray wraps the worker's error; show its message, not Ray's stack
            raise TrainingFailed(_worker_message(exc)) from None
        if getattr(result, "error", None) is not None:
            raise TrainingFailed(_worker_message(result.error))
    final = run_dir / FINAL
    if not final.exists():
        raise TrainingFailed(f"{run_dir}: training ended without a final checkpoint")
    return final.resolve()


def _log_start(run: TrainConfig, facts: dict[str, Any], resume: Path | None) -> None:
    from rs_formats.wording import noun_for

    per_epoch = facts["steps_per_epoch"]
    log.info("training %d steps (%.3g epochs of %d steps) on %d %s, batch %d, in %s", facts["total_steps"],
             facts["total_steps"] / per_epoch, per_epoch, run.workers, noun_for("worker", run.workers),
             run.optim.batch_size, run.out)
    if resume is not None:
        log.info("resuming from %s", resume)


def _worker_message(exc: BaseException) -> str:
    """The innermost worker error's last line: what went wrong, without Ray's plumbing around it."""
    text = str(exc).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error" in line.split(":", 1)[0] or "Exception" in line.split(":", 1)[0]:
            return line.strip()
    return lines[-1].strip() if lines else type(exc).__name__
