"""Experiment trackers: where ``--report-to`` sends every logged step, besides metrics.jsonl.

Decisions:

* Three backends, each an optional extra of rs-clip-train, imported only when asked for:

  - ``tensorboard``: event files in ``RUN_DIR/tensorboard`` (``torch.utils.tensorboard``).
  - ``wandb``: a run in ``RUN_DIR/wandb``, configured by wandb's own variables: ``WANDB_MODE=offline``
    writes it with no network (``wandb sync`` uploads it later), ``WANDB_PROJECT`` (default
    ``rs-clip-train``), ``WANDB_ENTITY``; the run is named after the run directory.
  - ``mlflow``: an MLflow run on ``MLFLOW_TRACKING_URI``, by default a SQLite store in the run directory
    (``sqlite:///RUN_DIR/mlflow.db``: MLflow 3 keeps its plain-file store in maintenance mode and refuses
    new ones, and SQLite is its own default), in experiment ``MLFLOW_EXPERIMENT_NAME`` (default
    ``rs-clip-train``). mlflow-skinny with SQLAlchemy and Alembic suffice (the extra installs those): the
    full mlflow adds a server UI and pins an older pyarrow. The extra pins one minor release: each may
    migrate the store's schema, which an older MLflow refuses, so the README's viewer (the full mlflow of
    the same minor release, in its own environment) reads what this one wrote.

* A backend that is asked for and not installed stops the run before any worker starts, in one line
  naming the extra to install (:func:`check_installed`).
* Rank 0 writes, as it writes metrics.jsonl (:class:`~rs_clip_train.metrics.MetricsLog` holds the trackers),
  whatever the launcher.
* What goes in: every number of a metrics.jsonl record at the record's step, training figures as
  ``train/<name>`` (``train/loss``, ``train/lr``, ...), evaluation figures as they are named
  (``eval/mean_recall``, ...); the run's settings as the run's configuration (wandb) or parameters
  (MLflow, dotted names). MLflow allows fewer characters in a name: the others become ``_``
  (``eval/i2t_R@1`` -> ``eval/i2t_R_1``).
* A resumed run continues the same tracker runs (their ids are kept in ``RUN_DIR/trackers.json``). The
  steps after the resume point are trained again: TensorBoard drops what the interrupted attempt logged
  for them (``purge_step``), MLflow keeps both values in the metric's history, and wandb gets them again
  (its server keeps a resumed run's steps in increasing order).
* Why not a multiplexer from a library: Hugging Face Accelerate's trackers need Accelerate's process
  state, Lightning's loggers need Lightning, and Ray's logging callbacks see only what reaches Ray (nothing
  under ``--launcher none``). Each backend here is a handful of calls of its own well-kept client.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rs_formats.settings import ConfigError

if TYPE_CHECKING:
    from .config import TrainConfig

#: ``--report-to`` name -> the module it needs (the extra of the same name installs it).
BACKENDS = {"tensorboard": "torch.utils.tensorboard", "wandb": "wandb", "mlflow": "mlflow"}
#: The tracker runs' ids, so that a resumed run continues them.
IDS_FILE = "trackers.json"
PROJECT = "rs-clip-train"


class Tracker(Protocol):
    def log(self, scalars: dict[str, float], step: int) -> None: ...

    def close(self) -> None: ...


def check_installed(run: TrainConfig) -> None:
    """A ConfigError naming the extra to install for the first ``report_to`` backend that does not import."""
    for name in run.trackers():
        try:
            importlib.import_module(BACKENDS[name])
        except ImportError as exc:
            raise ConfigError(
                f"--report-to {name}: {' '.join(str(exc).split())} (install rs-clip-train with "
                f"its {name} extra: README.md, Install)"
            ) from None


def scalars(record: dict[str, Any]) -> dict[str, float]:
    """The numbers of a metrics.jsonl record under their tracker names (none for start/end events)."""
    if "event" in record:
        return {}
    prefix = "train/" if "loss" in record else ""
    return {
        k if "/" in k else prefix + k: float(v)
        for k, v in record.items()
        if k not in ("step", "time") and isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def open_trackers(run: TrainConfig, run_dir: Path, resume_step: int) -> list[Tracker]:
    """The run's trackers, resuming their runs where ``trackers.json`` names them."""
    path = run_dir / IDS_FILE
    ids = json.loads(path.read_text()) if path.exists() else {}
    opened: list[Tracker] = []
    for name in run.trackers():
        opened.append(_OPEN[name](run, run_dir, resume_step, ids))
    if ids:
        tmp = path.with_name(f".{IDS_FILE}.tmp")
        tmp.write_text(json.dumps(ids, indent=1) + "\n")
        os.replace(tmp, path)
    return opened


def flat_settings(run: TrainConfig) -> dict[str, Any]:
    """The run's settings as one level of dotted names (``optim.lr``)."""
    out: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}{k}.", v)
        else:
            out[prefix[:-1]] = value

    walk("", run.to_dict())
    return out


class TensorBoard:
    def __init__(self, run: TrainConfig, run_dir: Path, resume_step: int, ids: dict[str, str]):
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(
            str(run_dir / "tensorboard"), purge_step=resume_step + 1 if resume_step else None
        )
        if not resume_step:
            self.writer.add_text("config", "```\n" + run.to_yaml() + "```", 0)

    def log(self, scalars: dict[str, float], step: int) -> None:
        for key, value in scalars.items():
            self.writer.add_scalar(key, value, step)

    def close(self) -> None:
        self.writer.close()


class Wandb:
    def __init__(self, run: TrainConfig, run_dir: Path, resume_step: int, ids: dict[str, str]):
        import wandb

        # console="off": wandb would otherwise wrap stdout, which carries the command's product.
        self.run = wandb.init(
            project=os.environ.get("WANDB_PROJECT", PROJECT),
            name=run_dir.name,
            dir=str(run_dir),
            id=ids.get("wandb"),
            resume="allow",
            reinit="create_new",
            config=flat_settings(run),
            settings=wandb.Settings(console="off", quiet=True),
        )
        ids["wandb"] = self.run.id

    def log(self, scalars: dict[str, float], step: int) -> None:
        self.run.log(scalars, step=step)

    def close(self) -> None:
        self.run.finish()


class MLflow:
    def __init__(self, run: TrainConfig, run_dir: Path, resume_step: int, ids: dict[str, str]):
        from mlflow import MlflowClient
        from mlflow.entities import Param

        uri = os.environ.get("MLFLOW_TRACKING_URI")
        self.client = MlflowClient(uri or f"sqlite:///{run_dir / 'mlflow.db'}")
        self.run_id = ids.get("mlflow")
        if self.run_id is not None:
            self.client.update_run(self.run_id, status="RUNNING")
            return
        name = os.environ.get("MLFLOW_EXPERIMENT_NAME", PROJECT)
        experiment = self.client.get_experiment_by_name(name)
        if experiment is not None:
            experiment_id = experiment.experiment_id
        else:  # artifacts (none are logged yet) beside the default store, not in the working directory
            where = None if uri else (run_dir / "mlflow-artifacts").as_uri()
            experiment_id = self.client.create_experiment(name, artifact_location=where)
        self.run_id = self.client.create_run(experiment_id, run_name=run_dir.name).info.run_id
        ids["mlflow"] = self.run_id
        self.client.log_batch(
            self.run_id, params=[Param(mlflow_name(k), str(v)) for k, v in flat_settings(run).items()]
        )

    def log(self, scalars: dict[str, float], step: int) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self.client.log_batch(
            self.run_id, metrics=[Metric(mlflow_name(k), v, now, step) for k, v in scalars.items()]
        )

    def close(self) -> None:
        self.client.set_terminated(self.run_id)


def mlflow_name(name: str) -> str:
    """``name`` with the characters MLflow refuses in metric and parameter names replaced by ``_``."""
    return re.sub(r"[^\w\-. /:]", "_", name)


_OPEN = {"tensorboard": TensorBoard, "wandb": Wandb, "mlflow": MLflow}
