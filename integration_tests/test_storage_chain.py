"""A Ray cluster whose nodes share nothing but an S3 endpoint: the recipe through ``s3://`` URIs alone.

moto's S3 server on localhost (the repository's ``s3`` fixture) and a two-node local Ray, each node with
its own working directory and temporary directory (the only thing they share is the endpoint): rs-synth
-> rs-annotate convert -> dedup, both into the bucket -> rs-clip-train fit with two workers (one per
node), its data, its initial weights and its run in the bucket -> one worker killed after a checkpoint is
stored -> Ray restarts the workers, which resume from the stored checkpoint -> rs-clip-eval run on ``--model
s3://.../final`` and a suite whose dataset is in the bucket. No checkpoint is ever on a node's disk, and a
worker writes only in its own node's working copy.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rs_clip_train.storage import scratch

pytestmark = pytest.mark.slow

STEPS, EVERY = 40, 10


def _tool(name: str, *args: object, env: dict[str, str], cwd: Path, timeout: int = 300) -> str:
    """``name ARGS`` as a user runs it; its stdout (the command must succeed)."""
    proc = subprocess.run(
        [str(Path(sys.executable).parent / name), *map(str, args), "--no-progress"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
    )
    assert proc.returncode == 0, f"{name} {args}: {proc.stderr[-3000:]}"
    return proc.stdout


def _keys(prefix: str, bucket: str) -> list[str]:
    import boto3

    pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def _read(key: str, bucket: str) -> bytes:
    import boto3

    return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def _train_worker_on(tmpdir: Path) -> int | None:
    """The pid of the Ray Train worker of the node whose temporary directory is ``tmpdir``."""
    import psutil

    for proc in psutil.process_iter(["cmdline"]):
        try:
            if "RayTrainWorker" in " ".join(proc.info["cmdline"] or []) and proc.environ().get(
                "TMPDIR"
            ) == str(tmpdir):
                return proc.pid
        except psutil.Error:
            continue
    return None


@pytest.fixture
def two_nodes(tmp_path, monkeypatch):
    """A Ray cluster of two 1-CPU nodes, each started in its own working directory with its own TMPDIR
    (what its workers inherit); yields ``(cluster, {node_id: (cwd, tmpdir)})``."""
    from ray.cluster_utils import Cluster

    from rs_formats.cluster import free_port

    nodes: dict[str, tuple[Path, Path]] = {}
    cluster = Cluster()
    try:
        for name in ("head", "other"):
            cwd, tmp = tmp_path / name / "cwd", tmp_path / name / "tmp"
            cwd.mkdir(parents=True)
            tmp.mkdir()
            with monkeypatch.context() as mp:
                mp.chdir(cwd)  # the raylet, and so every process of the node, starts here
                # The head's dashboard serves the state API Ray Train's controller polls, on a free port.
                head = {"dashboard_host": "127.0.0.1", "dashboard_port": free_port(0)} if not nodes else {}
                node = cluster.add_node(
                    num_cpus=1,
                    include_dashboard=not nodes,
                    **head,
                    env_vars={
                        "TMPDIR": str(tmp),
                        "RS_CLIP_MODELS_CACHE": str(tmp / "models"),
                        "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S": "0.2",
                    },
                )
            nodes[node.node_id] = (cwd, tmp)
        cluster.wait_for_nodes()
        yield cluster, nodes
    finally:
        cluster.shutdown()


def test_convert_dedup_train_kill_resume_evaluate_through_s3_only(s3, two_nodes, tmp_path):
    cluster, nodes = two_nodes
    bucket = s3.bucket
    (head_cwd, head_tmp), (other_cwd, other_tmp) = nodes.values()
    env = {
        **os.environ,
        "TMPDIR": str(head_tmp),
        "RS_CLIP_MODELS_CACHE": str(head_tmp / "models"),
        "RS_CLIP_EVAL_CACHE": str(head_tmp / "eval-cache"),
    }
    data = f"s3://{bucket}/data"
    started = time.perf_counter()

    # Data: converted and de-duplicated straight into the bucket.
    raw = head_cwd / "raw"
    _tool("rs-synth", "rsicd", "--out", raw, "--n", 96, "--size", 64, env=env, cwd=head_cwd)
    for out, splits in (("rsicd-train", "train,val"), ("rsicd-test", "test")):
        opts = ["--opt", f"splits={splits}"] + (["--split", "train"] if splits != "test" else [])
        _tool("rs-annotate", "convert", "ret3", raw, "--out", f"{data}/{out}", *opts, env=env, cwd=head_cwd)
    _tool(
        "rs-annotate",
        "dedup",
        f"{data}/rsicd-train",
        "--out",
        f"{data}/train",
        "--against",
        f"{data}/rsicd-test",
        env=env,
        cwd=head_cwd,
    )
    assert "data/train/manifest.json" in _keys("data/train/", bucket)

    # Initial weights in the bucket: each node downloads them into its own model cache.
    import pyarrow.fs
    import torch

    from rs_clip_models.models import TINY_MODEL, create_model

    torch.save(create_model(TINY_MODEL)[0].state_dict(), head_tmp / "init.pt")
    pyarrow.fs.copy_files(str(head_tmp / "init.pt"), f"s3://{bucket}/weights/init.pt")

    # Training on both nodes, its run kept in the bucket; a worker killed once a checkpoint is stored.
    fit = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "rs-clip-train"),
            "fit",
            "--preset",
            "tiny",
            "--data",
            f"{data}/train",
            "--init",
            f"s3://{bucket}/weights/init.pt",
            "--storage",
            f"s3://{bucket}/runs",
            "--out",
            head_cwd / "run",
            "--address",
            cluster.address,
            "--workers",
            "2",
            "--cpus-per-worker",
            "1",
            "--loader-workers",
            "0",
            "--steps",
            str(STEPS),
            "--checkpoint-every",
            str(EVERY),
            "--log-every",
            "5",
            "--max-failures",
            "1",
            "--no-progress",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=head_cwd,
    )
    stored = "runs/run/checkpoints"
    deadline = time.time() + 300
    while f"{stored}/step-{2 * EVERY:08d}/manifest.json" not in _keys(stored, bucket):
        assert fit.poll() is None, fit.communicate()[1][-3000:]
        assert time.time() < deadline, "no second checkpoint in the bucket after 300 s"
        time.sleep(0.2)
    victim = _train_worker_on(other_tmp)
    assert victim is not None, "no Ray Train worker on the second node"
    os.kill(victim, signal.SIGKILL)
    out, err = fit.communicate(timeout=300)
    assert fit.returncode == 0, err[-3000:]
    final = f"s3://{bucket}/runs/run/final"
    assert out.strip().splitlines()[-1] == final  # after Ray's line about the killed worker

    # The run's record in the bucket: two attempts, the second resumed from a stored checkpoint, each with
    # one worker on each node; the final checkpoint is the last step's.
    metrics = [json.loads(x) for x in _read("runs/run/metrics.jsonl", bucket).decode().splitlines()]
    starts = [m for m in metrics if m.get("event") == "start"]
    assert [s["step"] for s in starts][0] == 0 and len(starts) == 2
    assert starts[1]["step"] in (EVERY, 2 * EVERY)
    assert all(sorted(s["nodes"]) == sorted(nodes) for s in starts)
    assert metrics[-1]["event"] == "end" and metrics[-1]["step"] == STEPS
    assert json.loads(_read("runs/run/final/manifest.json", bucket))["step"] == STEPS

    # Nothing shared on disk: no checkpoint on either node, and each worker wrote only in its own node's
    # working copy (--out on the driver's node, its temporary directory elsewhere).
    for cwd, tmp in nodes.values():
        assert not [p for root in (cwd, tmp) for p in root.rglob("step-*") if p.is_dir() and any(p.iterdir())]
    # Every attempt's ranks logged where they ran (ranks may change nodes between attempts), and nowhere else.
    head_node = next(iter(nodes))
    stored_run_copy = scratch("run", f"s3://{bucket}/runs", on_driver_node=False).name
    copy = {  # on the other node: its temporary directory's folder for this stored run
        node: head_cwd / "run" if node == head_node else tmp / "rs-clip-train" / stored_run_copy
        for node, (_, tmp) in nodes.items()
    }
    ran = {(copy[node], f"worker-{rank}.log") for s in starts for rank, node in enumerate(s["nodes"])}
    logged = {(where, log.name) for where in copy.values() for log in (where / "logs").glob("worker-*.log")}
    assert logged == ran
    assert not (other_cwd / "run").exists() and not (other_cwd / "raw").exists()
    assert all(len(list((tmp / "models").rglob("init.pt"))) == 1 for _, tmp in nodes.values())

    # Evaluation of the stored final checkpoint on the stored test set.
    suite = head_cwd / "suite.yaml"
    suite.write_text(
        f"name: s3\ndatasets:\n  - path: {data}/rsicd-test\n    name: test\n    tasks: [retrieval]\n"
    )
    _tool(
        "rs-clip-eval",
        "run",
        "--model",
        f"trained={final}",
        "--suite",
        suite,
        "--out",
        head_cwd / "eval",
        "--no-plots",
        "--loader-workers",
        "0",
        env=env,
        cwd=head_cwd,
    )
    results = json.loads((head_cwd / "eval" / "results.json").read_text())
    assert "trained" in json.dumps(results) and final in json.dumps(results)
    assert "retrieval" in (head_cwd / "eval" / "report.md").read_text().lower()
    print(f"chain: {time.perf_counter() - started:.0f} s")
