"""Ray Train's side: make_trainer's TorchTrainer trains, every logged step reaches Ray (its callbacks), and
with --storage on an S3 endpoint (moto's server: the repository's ``s3`` fixture) the run and its checkpoints are kept in the
bucket, where a checkpoint loads from and a new working copy resumes from. An unreachable endpoint stops
the command before anything starts, in one line naming it. One local Ray for the module."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rs_clip_train.cli import main

pytestmark = pytest.mark.slow

BUCKET = "rs-clip-test"  # the shared ``s3`` fixture's (the repository's conftest.py)


@pytest.fixture(scope="module")
def local_ray(s3):
    from rs_formats.cluster import ray_session

    with ray_session(None, dashboard=True):
        yield


def _bucket(prefix: str) -> dict[str, bytes]:
    import boto3

    client, out = boto3.client("s3"), {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith("/"):
                continue  # a directory marker (pyarrow writes them)
            out[obj["Key"][len(prefix) :]] = client.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
    return out


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _cfg(caption_ds: Path, out: Path, steps: int):
    from rs_clip_train import DataSource, preset

    cfg = preset("tiny")
    cfg.data.sources = [DataSource(str(caption_ds))]
    cfg.out, cfg.steps, cfg.workers, cfg.log_every, cfg.checkpoint_every = str(out), steps, 2, 1, 2
    cfg.data.loader_workers, cfg.storage, cfg.report_to = 0, f"s3://{BUCKET}/runs", "tensorboard"
    return cfg


def test_a_trainer_on_s3_storage_reports_every_step_and_keeps_the_run_in_the_bucket(
    s3, local_ray, caption_ds, tmp_path, monkeypatch
):
    from ray.train import UserCallback
    from ray.train.torch import TorchTrainer

    from rs_clip_models.models import create_model
    from rs_clip_train import make_trainer
    from rs_formats.checkpoint import WEIGHTS

    reports = tmp_path / "reports.jsonl"
    monkeypatch.setenv("RS_CLIP_MODELS_CACHE", str(tmp_path / "models"))

    class Reports(UserCallback):  # runs in Ray Train's controller: it writes what it sees to a file
        def after_report(self, run_context, metrics, checkpoint):
            with open(reports, "a") as f:
                f.write(
                    json.dumps(
                        {
                            "steps": [m.get("step") for m in metrics],
                            "loss": metrics[0].get("loss"),
                            "checkpoint": checkpoint.path if checkpoint else None,
                        }
                    )
                    + "\n"
                )

    run_dir = tmp_path / "work" / "s3-run"
    trainer = make_trainer(_cfg(caption_ds, run_dir, 4), callbacks=[Reports()])
    assert isinstance(trainer, TorchTrainer)
    result = trainer.fit()
    assert result.error is None

    # Every logged step reached Ray once, from both workers, with rank 0's figures; checkpoints at 2 and 4.
    seen = [json.loads(line) for line in reports.read_text().splitlines()]
    logged = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines() if '"loss"' in x]
    assert [r["steps"] for r in seen] == [[s, s] for s in range(1, 5)]
    assert [r["loss"] for r in seen] == [r["loss"] for r in logged]
    stored = f"{BUCKET}/runs/s3-run/checkpoints"
    assert [r["checkpoint"] for r in seen] == [
        None,
        f"{stored}/step-00000002",
        None,
        f"{stored}/step-00000004",
    ]
    assert result.checkpoint.path == f"{stored}/step-00000004"

    # The bucket holds the run as the run directory lays it out: each checkpoint assembled from both ranks'
    # parts (each rank's engine and RNG state), listed with their sha256 in rank 0's manifest; run.yaml,
    # metrics.jsonl to its end, the TensorBoard events, and final/ (the last checkpoint without its resume
    # state). The working copy keeps no checkpoint.
    import hashlib

    kept = _bucket("runs/s3-run/")
    step4 = {k.split("/", 2)[2]: v for k, v in kept.items() if k.startswith("checkpoints/step-00000004/")}
    manifest = json.loads(step4["manifest.json"])
    assert {"train_state/rng-rank0.pt", "train_state/rng-rank1.pt"} <= set(manifest["sha256"])
    assert {rel: hashlib.sha256(step4[rel]).hexdigest() for rel in manifest["sha256"]} == manifest["sha256"]
    assert set(step4) == {*manifest["sha256"], "manifest.json", "open_clip_config.json", "README.md"}
    final = {k.split("/", 1)[1]: v for k, v in kept.items() if k.startswith("final/")}
    assert final == {k: v for k, v in step4.items() if not k.startswith("train_state/")}
    assert any(k.startswith("checkpoints/step-00000002/") for k in kept)
    for name in ("run.yaml", "metrics.jsonl"):
        assert kept[name] == (run_dir / name).read_bytes(), name
    assert '"event": "end"' in kept["metrics.jsonl"].decode()
    assert any(k.startswith("tensorboard/events.out.tfevents.") for k in kept)
    assert not [p for p in (run_dir / "checkpoints").rglob("*") if p.is_file()]

    # The stored checkpoint, downloaded, is an rs-clip-checkpoint that verifies and loads with the trained
    # weights, as does --model s3://.../final.
    import torch
    from safetensors.torch import load_file

    from rs_formats.checkpoint import verify_checkpoint

    copy = Path(result.checkpoint.to_directory(str(tmp_path / "download")))
    assert verify_checkpoint(copy).step == 4
    model, _, _ = create_model(copy)
    want = load_file(str(copy / WEIGHTS))
    assert all(torch.equal(v, want[k]) for k, v in model.state_dict().items())
    from_uri, _, _ = create_model(f"s3://{BUCKET}/runs/s3-run/final")
    assert all(torch.equal(v, want[k]) for k, v in from_uri.state_dict().items())

    # A new working copy (another machine) resumes from the bucket's last checkpoint, not from scratch, and
    # appends to the run's stored metrics.jsonl (fetched first): the first attempt's start, then this one's.
    again = tmp_path / "elsewhere" / "s3-run"
    result = make_trainer(_cfg(caption_ds, again, 5)).fit()
    assert result.error is None and result.checkpoint.path == f"{stored}/step-00000005"
    starts = [
        json.loads(x)["step"] for x in (again / "metrics.jsonl").read_text().splitlines() if '"start"' in x
    ]
    assert starts == [0, 4]
    assert '"step": 5' in _bucket("runs/s3-run/metrics.jsonl")[""].decode()


def test_an_unreachable_storage_stops_the_command_naming_the_endpoint(
    capsys, tmp_path, caption_ds, monkeypatch
):
    from rs_formats.cluster import free_port

    closed = f"http://127.0.0.1:{free_port(0)}"  # nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL", closed)
    args = [
        "fit",
        "--preset",
        "tiny",
        "--steps",
        "2",
        "--data",
        str(caption_ds),
        "--out",
        str(tmp_path / "run"),
    ]
    assert main([*args, "--storage", f"s3://{BUCKET}/runs"]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err.startswith(
            f"rs-clip-train: error: --storage s3://{BUCKET}/runs: endpoint {closed} is unreachable: "
        )
        and len(err.splitlines()) == 1
    )
    assert not (tmp_path / "run").exists()  # stopped before the run directory, Ray or any worker

    assert main([*args, "--storage", "s3://bucket/x", "--launcher", "none"]) == 2
    assert "--storage s3://bucket/x: needs Ray Train (--launcher ray)" in capsys.readouterr().err


def test_a_missing_bucket_is_named(s3, capsys, tmp_path, caption_ds):
    args = [
        "fit",
        "--preset",
        "tiny",
        "--steps",
        "2",
        "--data",
        str(caption_ds),
        "--out",
        str(tmp_path / "run"),
    ]
    assert main([*args, "--storage", "s3://no-such-bucket/runs"]) == 2
    err = capsys.readouterr().err.strip()
    assert f"--storage s3://no-such-bucket/runs: cannot write the run there (endpoint {s3.url}): " in err
    assert "no-such-bucket" in err.split("): ", 1)[1] and len(err.splitlines()) == 1


def test_fit_reads_its_data_from_a_uri_as_from_disk(s3, caption_ds, tmp_path):
    """The same run from the dataset on disk and from its copy in the bucket: the same loss at every step
    (a loader process streams the stored row groups)."""
    import pyarrow.fs
    from conftest import cli, losses

    uri = f"s3://{BUCKET}/data/toy"
    pyarrow.fs.copy_files(str(caption_ds), uri)
    args = ["fit", "--launcher", "none", "--preset", "tiny", "--steps", "3", "--log-every", "1"]
    for name, data in (("disk", str(caption_ds)), ("bucket", uri)):  # each a process, as a user runs it
        proc = cli(*args, "--loader-workers", "1", "--data", data, "--out", str(tmp_path / name))
        assert proc.returncode == 0, proc.stderr[-3000:]
    assert losses(tmp_path / "bucket") == losses(tmp_path / "disk") and len(losses(tmp_path / "disk")) == 3
    assert f"path: {uri}" in (tmp_path / "bucket" / "run.yaml").read_text()
