"""Start a run: the checks every launcher shares, the run directory, and the choice of launcher
(:func:`rs_clip_train.launch.fit` starts the one chosen).

``--launcher`` (a setting, :class:`~rs_clip_train.config.TrainConfig`):

- ``ray`` (:mod:`rs_clip_train.launch_ray`): Ray Train starts ``--workers`` workers, on a private local
  Ray or on a cluster (``--address`` / ``RAY_ADDRESS``), and restarts them after a failure.
- ``none`` (:mod:`rs_clip_train.launch_torchrun`): no launcher of ours. This process is a worker: one of
  those ``torchrun`` started (the world is torchrun's), or the only one. Ray is never imported.
- ``auto`` (the default): ``none`` when torchrun's variables are set (``RANK``, ``WORLD_SIZE``,
  ``MASTER_ADDR``, ``MASTER_PORT``: ``init_process_group``'s ``env://``), else ``ray``.

Whatever the launcher, before a worker starts: the settings, the trackers of ``--report-to`` (installed),
the ``--storage`` (reachable and writable), the model and ``--init`` (file format, and weights that fit the
architecture), the datasets, and the resume state to continue from are checked, each error one line naming
the file or endpoint. The training function itself (:func:`rs_clip_train.worker.train`) is the
same under every launcher, so checkpoints, resume and metrics are too.
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

from .config import ConfigError, TrainConfig
from .run_dir import FINAL, METRICS, RUN_YAML, latest_checkpoint, link_final

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)
#: What ``init_process_group(init_method="env://")`` needs; torchrun sets them (and LOCAL_RANK) in every process.
TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


class TrainingFailed(RuntimeError):
    """The run stopped with an error (after the launcher's restarts, if any, were used up)."""


def under_torchrun() -> bool:
    return all(v in os.environ for v in TORCHRUN_VARIABLES)


def choose_launcher(run: TrainConfig) -> str:
    """``ray`` or ``none`` for the run's ``launcher`` setting (see the module docstring)."""
    if run.launcher == "auto":
        return "none" if under_torchrun() else "ray"
    if run.launcher == "ray" and under_torchrun():
        raise ConfigError(
            "--launcher ray in a process torchrun started (RANK, WORLD_SIZE, ... are set): every "
            "process would start its own Ray; use --launcher none (or auto) under torchrun"
        )
    return run.launcher


def _absolute(run: TrainConfig) -> TrainConfig:
    """Workers run in other directories (and on other nodes): every path must be absolute."""
    from rs_formats import location

    run = TrainConfig.from_dict(run.to_dict())
    run.out = str(Path(run.out).expanduser().resolve())
    for src in run.data.sources:
        src.path = location.absolute(src.path)  # a dataset's URI stays as it is
    if run.model.init:
        from rs_clip_models.sources import absolute

        run.model.init = absolute(run.model.init)
    if run.eval_data:
        run.eval_data = location.absolute(run.eval_data)
    if Path(run.model.name).expanduser().is_dir():
        run.model.name = str(Path(run.model.name).expanduser().resolve())
    if run.storage is not None:
        run.storage = location.absolute(run.storage)
    return run


def check_out(run: TrainConfig) -> None:
    """The run directory overlaps no input: a dataset, the model's checkpoint, ``--init``, ``--eval-data``."""
    from rs_clip_models.hub import HUB_PREFIX
    from rs_clip_models.sources import resolve
    from rs_formats.location import is_uri
    from rs_formats.outputs import check_output

    local = run.model.init and not run.model.init.startswith(HUB_PREFIX) and not is_uri(run.model.init)
    init = resolve(run.model.init, weights=True).path if local else None
    model = run.model.name if Path(run.model.name).is_dir() else None
    check_output(run.out, [*(s.path for s in run.data.sources), init, model, run.eval_data])


def check_model(run: TrainConfig) -> None:
    """Fail fast, before any worker starts, on a model or init file that cannot work: an unknown model, a
    checkpoint that breaks its contract, weights that are neither safetensors nor a weights-only torch file,
    or weights that do not fit the architecture. The model is built on the meta device (no memory, no
    initialisation time) and the weights are matched against it as training will load them."""
    import warnings

    import open_clip
    import torch

    from rs_clip_models.models import create_model, register_tiny_configs

    from .model import open_clip_name

    register_tiny_configs()
    name = run.model.name
    if not Path(name).is_dir() and open_clip.get_model_config(name) is None:
        raise ConfigError(
            f"unknown model {name!r}: not an open_clip model name nor an rs-clip-checkpoint "
            "directory (see `python -c 'import open_clip; print(open_clip.list_models())'`)"
        )
    open_clip_name(name)  # validates a checkpoint directory
    with torch.device("meta"), warnings.catch_warnings():
        # torch says copying weights into meta tensors is a no-op: as wanted (the zoo's warnings still show)
        warnings.filterwarnings("ignore", message=".*meta parameter.*")
        create_model(name, weights=run.model.init or None, device="meta")


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
    sources = [
        {
            "name": ds.name,
            "path": str(ds.path),
            "manifest_sha256": ds.manifest_sha256(),
            "splits": sp,
            "rows": n,
            "weight": s.weight,
        }
        for ds, s, sp, n in zip(datasets, run.data.sources, splits, rows_of)
    ]
    info: dict[str, Any] = {
        "name": "+".join(s["name"] for s in sources),
        "manifest_sha256": sources[0]["manifest_sha256"] if len(sources) == 1 else None,
    }
    if len(sources) == 1:
        info["splits"] = splits[0]
    if len(sources) > 1:
        info["sources"] = sources
    return {"rows": rows, "steps_per_epoch": steps_per_epoch, "total_steps": total, "dataset_info": info}


def prepare(run: TrainConfig) -> tuple[TrainConfig, dict[str, Any]]:
    """Every check that needs no worker; returns the run with absolute paths and :func:`plan`'s facts."""
    from .storage import check as check_storage
    from .tracking import check_installed

    run = _absolute(run.validate())
    check_out(run)
    check_installed(run)
    check_storage(run)
    check_model(run)
    facts = plan(run)
    if run.eval_data:
        from .evaluate import check

        check(run.eval_data, run.eval_split)
    return run, facts


def open_run_dir(run: TrainConfig, facts: dict[str, Any]) -> tuple[Path | None, bool]:
    """Create the run directory, write run.yaml and find the checkpoint to resume from, its resume state
    checked (:func:`rs_clip_train.resume_state.check`). Returns it and whether the run is already done."""
    run_dir = Path(run.out)
    run_dir.mkdir(parents=True, exist_ok=True)
    run.save(run_dir / RUN_YAML)
    if run.storage is not None:  # Ray resumes from the store (rs_clip_train.storage); no local checkpoints
        from .storage import stored_run

        (stored_run(run) / RUN_YAML).write_bytes((run_dir / RUN_YAML).read_bytes())
        return None, False
    resume = latest_checkpoint(run_dir)
    if resume is None:
        return None, False
    if json.loads((resume / "manifest.json").read_text()).get("step", 0) >= facts["total_steps"]:
        log.info("%s: already trained to step %d (%s); nothing to do", run_dir, facts["total_steps"], resume)
        link_final(run_dir, resume)
        return resume, True
    from .resume_state import check

    check(resume)
    return resume, False


def final_checkpoint(run: TrainConfig) -> Path | str:
    """The run's final checkpoint: its path, or with ``--storage`` its URI."""
    if run.storage is not None:
        from rs_formats.checkpoint import MANIFEST

        from .storage import stored_run

        final = stored_run(run) / FINAL
        if (final / MANIFEST).kind() != "file":
            raise TrainingFailed(f"{final}: training ended without a final checkpoint")
        return str(final)
    final = Path(run.out) / FINAL
    if not final.exists():
        raise TrainingFailed(f"{run.out}: training ended without a final checkpoint")
    return final.resolve()


def progress_bar(run: TrainConfig, facts: dict[str, Any], progress: bool) -> _Progress | None:
    """The console bar for the run, or None where it would not show."""
    if not console.progress_enabled(progress):
        return None
    return _Progress(Path(run.out) / METRICS, facts["total_steps"], f"train {Path(run.model.name).name}")


class _Progress:
    """The console bar, fed from metrics.jsonl (which every node writes to the shared run directory)."""

    def __init__(self, path: Path, total: int, desc: str):
        self.path, self.total = path, total
        self.bar = console.progress(total=total, unit="step", desc=desc)
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
                self.bar.set_postfix(
                    loss=f"{rec['loss']:.4f}",
                    lr=f"{rec['lr']:.2e}",
                    temp=f"{rec['temperature']:.4f}",
                    pairs_s=f"{rec['pairs_per_s']:.0f}",
                    refresh=False,
                )
            self.bar.refresh()


def log_start(run: TrainConfig, facts: dict[str, Any], resume: Path | None) -> None:
    from rs_formats.wording import noun_for

    per_epoch = facts["steps_per_epoch"]
    log.info(
        "training %d steps (%.3g epochs of %d steps) on %d %s, batch %d, in %s",
        facts["total_steps"],
        facts["total_steps"] / per_epoch,
        per_epoch,
        run.workers,
        noun_for("worker", run.workers),
        run.optim.batch_size,
        run.out,
    )
    if resume is not None:
        log.info("resuming from %s", resume)


def worker_message(exc: BaseException) -> str:
    """The innermost worker error's last line: what went wrong, without Ray's plumbing around it."""
    text = str(exc).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error" in line.split(":", 1)[0] or "Exception" in line.split(":", 1)[0]:
            return line.strip()
    return lines[-1].strip() if lines else type(exc).__name__
