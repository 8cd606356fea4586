"""The cluster path without a cluster: a 2-node local Ray, training submitted as a Ray job."""

import json
import os
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_nodes():
    from rs_formats.cluster import local_cluster

    # One CPU per node: two 1-CPU workers can only be placed one per node. The job API needs the dashboard.
    with local_cluster(nodes=2, dashboard=True, connect=False) as cluster:
        yield cluster


def test_training_as_a_ray_job_on_two_nodes(two_nodes, caption_ds, tmp_path: Path):
    from ray.job_submission import JobStatus, JobSubmissionClient

    from rs_clip_models.models import create_model

    client = JobSubmissionClient(f"http://{two_nodes.head_node.webui_url}")
    run_dir = tmp_path / "job-run"
    entrypoint = (
        f"{sys.executable} -m rs_clip_train.cli fit --preset tiny --data {caption_ds} --out {run_dir} "
        "--steps 4 --workers 2 --cpus-per-worker 1 --loader-workers 0 --log-every 1"
    )
    env = {
        k: os.environ[k] for k in ("OMP_NUM_THREADS", "DS_ACCELERATOR", "RAY_AUTH_MODE") if k in os.environ
    }
    deadline = time.time() + 300
    while True:  # the head's job agent comes up after the nodes do (later still on a busy machine)
        try:
            job = client.submit_job(entrypoint=entrypoint, runtime_env={"env_vars": env})
            break
        except RuntimeError as exc:
            if "No available agent" not in str(exc) or time.time() > deadline:
                raise
            time.sleep(1)
    deadline = time.time() + 300
    while (status := client.get_job_status(job)) not in {
        JobStatus.SUCCEEDED,
        JobStatus.FAILED,
        JobStatus.STOPPED,
    }:
        assert time.time() < deadline, "job did not finish in 300 s"
        time.sleep(1)
    logs = client.get_job_logs(job)
    assert status == JobStatus.SUCCEEDED, logs[-3000:]
    assert str(run_dir / "checkpoints" / "step-00000004") in logs  # the final checkpoint, on stdout

    start = next(
        json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines() if '"start"' in x
    )
    node_ids = {n.node_id for n in [two_nodes.head_node, *two_nodes.worker_nodes]}
    assert start["world_size"] == 2 and set(start["nodes"]) == node_ids  # one worker on each node

    model, _, _ = create_model(run_dir / "final")
    assert json.loads((run_dir / "final" / "manifest.json").read_text())["step"] == 4
    assert model.logit_scale.dim() == 0
