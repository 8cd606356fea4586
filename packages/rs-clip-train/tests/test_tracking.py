"""--report-to: TensorBoard, wandb (offline) and MLflow (its local store) get every logged step, read back
with each one's own reader; a resumed run continues the same tracker runs; a backend that is not installed
stops the run in one line. One plain process (no Ray): the trackers do not depend on the launcher."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from rs_clip_train.cli import main
from rs_formats.cluster import free_port

HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.slow


def _args(caption_ds: Path, out: Path, steps: int) -> list[str]:
    return [
        "--preset",
        "tiny",
        "--steps",
        str(steps),
        "--log-every",
        "1",
        "--checkpoint-every",
        "4",
        "--loader-workers",
        "0",
        "--report-to",
        "tensorboard,wandb,mlflow",
        "--data",
        str(caption_ds),
        "--out",
        str(out),
    ]


def _jsonl(run_dir: Path) -> dict[int, dict]:
    """metrics.jsonl's training records and evaluations, merged by step."""
    out: dict[int, dict] = {}
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if "event" not in rec:
            out.setdefault(rec["step"], {}).update(rec)
    return out


def _wandb_history(run_file: Path) -> dict[int, dict]:
    """The history rows of a wandb offline run file: wandb's record framing (a 7-byte header, then
    LevelDB's log format: 32 KiB blocks of checksum, length, type, data) around its protobuf Records."""
    from wandb.proto import wandb_internal_pb2 as pb

    data, rows, parts, pos = run_file.read_bytes(), {}, [], 7
    assert data[:4] == b":W&B"
    while pos + 7 <= len(data):
        if 32768 - pos % 32768 < 7:  # a block's tail too short for a header is padding
            pos += 32768 - pos % 32768
            continue
        _, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        if kind == 0:
            break
        parts.append(data[pos + 7 : pos + 7 + length])
        pos += 7 + length
        if kind in (1, 4):  # a whole record, or the last part of one
            record = pb.Record()
            record.ParseFromString(b"".join(parts))
            parts = []
            if record.WhichOneof("record_type") == "history":
                row = {
                    item.key or "/".join(item.nested_key): json.loads(item.value_json)
                    for item in record.history.item
                }
                rows[row["_step"]] = row
    return rows


@pytest.fixture(scope="module")
def tracked(caption_ds, tmp_path_factory) -> Path:
    """A run of 2 steps with all three trackers, then resumed to 3 steps in the same run directory: one
    process without Ray, as a torchrun job of one process (tests/torchrun_job.py) runs it."""
    run_dir = tmp_path_factory.mktemp("runs") / "tracked"
    env = {
        **os.environ,
        "RANK": "0",
        "LOCAL_RANK": "0",
        "WORLD_SIZE": "1",
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(free_port(29500)),
        "WANDB_MODE": "offline",
    }  # no network: a run for `wandb sync`
    env.pop("MLFLOW_TRACKING_URI", None)
    runs = [_args(caption_ds, run_dir, 2), _args(caption_ds, run_dir, 3)]
    proc = subprocess.run(
        [sys.executable, str(HERE / "torchrun_job.py"), json.dumps(runs)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return run_dir


def test_each_tracker_gets_every_logged_step(tracked: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    want = _jsonl(tracked)
    assert sorted(want) == [1, 2, 3]
    ids = json.loads((tracked / "trackers.json").read_text())

    events = EventAccumulator(str(tracked / "tensorboard"))
    events.Reload()
    for key in ("loss", "lr", "temperature", "pairs_per_s"):
        got = {e.step: e.value for e in events.Scalars(f"train/{key}")}
        assert got == pytest.approx({s: r[key] for s, r in want.items()}, rel=1e-6), key

    # Two offline runs of the one wandb run (the second resumes it); `wandb sync` uploads both.
    runs = sorted((tracked / "wandb").glob(f"offline-run-*-{ids['wandb']}"))
    assert len(runs) == 2
    rows = {}
    for run in runs:
        rows.update(_wandb_history(run / f"run-{ids['wandb']}.wandb"))
    assert {s: r["train/loss"] for s, r in rows.items()} == pytest.approx(
        {s: r["loss"] for s, r in want.items()}
    )

    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{tracked / 'mlflow.db'}")
    run = client.get_run(ids["mlflow"])
    from rs_clip_train import TrainConfig

    settings = TrainConfig.from_yaml((tracked / "run.yaml").read_text())
    assert (
        run.data.params["optim.lr"] == str(settings.optim.lr) and run.data.params["model.name"] == "RS-Tiny"
    )
    history = {m.step: m.value for m in client.get_metric_history(ids["mlflow"], "train/loss")}
    assert history == pytest.approx({s: r["loss"] for s, r in want.items()})
    assert run.info.status == "FINISHED"


def test_a_tracker_that_is_not_installed_is_one_error(capsys, tmp_path, caption_ds, monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb", None)  # `import wandb` fails as if it were not installed
    code = main(
        [
            "fit",
            "--preset",
            "tiny",
            "--launcher",
            "none",
            "--steps",
            "2",
            "--data",
            str(caption_ds),
            "--out",
            str(tmp_path / "run"),
            "--report-to",
            "tensorboard,wandb",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and not (tmp_path / "run").exists()
    assert (
        err.strip().startswith("rs-clip-train: error: --report-to wandb: ")
        and len(err.strip().splitlines()) == 1
    )
    assert "install rs-clip-train with its wandb extra" in err

    code = main(
        [
            "fit",
            "--preset",
            "tiny",
            "--steps",
            "2",
            "--data",
            str(caption_ds),
            "--out",
            str(tmp_path / "run"),
            "--report-to",
            "tensorboard,comet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "report_to 'tensorboard,comet': give none, or one or more of tensorboard" in err


def test_evaluation_figures_reach_mlflow_under_names_it_allows(tmp_path):
    from mlflow import MlflowClient

    from rs_clip_train import preset
    from rs_clip_train.metrics import MetricsLog

    cfg = preset("tiny")
    cfg.out, cfg.report_to = str(tmp_path / "run"), "mlflow"
    (tmp_path / "run").mkdir()
    log = MetricsLog(cfg, 0)
    log.write({"step": 3, "eval/i2t_R@1": 12.5, "eval/mean_recall": 20.0, "eval/n_images": 64})
    log.close()
    client = MlflowClient(f"sqlite:///{tmp_path / 'run' / 'mlflow.db'}")
    run_id = json.loads((tmp_path / "run" / "trackers.json").read_text())["mlflow"]
    assert client.get_run(run_id).data.metrics == {
        "eval/i2t_R_1": 12.5,
        "eval/mean_recall": 20.0,
        "eval/n_images": 64.0,
    }
    assert [m.step for m in client.get_metric_history(run_id, "eval/i2t_R_1")] == [3]


def test_the_mlflow_extra_admits_the_tested_release_and_no_later_minor_one():
    """A store is migrated to the schema of the MLflow that writes it and an older MLflow refuses it, so
    the extra admits one minor release: the one tested here, which the README's viewer matches."""
    from importlib.metadata import version

    import tomllib
    from packaging.requirements import Requirement

    extras = tomllib.loads((HERE.parent / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for extra in ("mlflow", "test"):
        spec = next(Requirement(r) for r in extras[extra] if Requirement(r).name == "mlflow-skinny").specifier
        installed = version("mlflow-skinny")
        major, minor = map(int, installed.split(".")[:2])
        assert installed in spec and f"{major}.{minor + 1}.0" not in spec and f"{major}.{minor}.0" in spec
    readme = (HERE.parent / "README.md").read_text()
    assert f'"mlflow=={major}.{minor}.*"' in readme
