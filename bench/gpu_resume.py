"""The GPU suite's ``resume`` part: ``python -m rs_clip_train fit`` killed with SIGKILL after a checkpoint
and run again, against an uninterrupted run of the same config file, step by step.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gpu_checks import losses, max_weight_diff, metrics, rel_diff, run_config, stored_weights

if TYPE_CHECKING:
    from gpu_suite import Suite


def _wait_for_checkpoint(proc: subprocess.Popen, run_dir: Path, every: int, timeout: float) -> int | None:
    """The step at which ``proc`` was killed: after its first checkpoint, before its second."""
    from rs_clip_train.run_dir import latest_checkpoint

    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        if latest_checkpoint(run_dir) is not None and (run_dir / "metrics.jsonl").exists():
            done = max((r["step"] for r in metrics(run_dir)), default=0)
            if done > every:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return done
        time.sleep(0.05)
    return None


def part_resume(suite: Suite) -> dict[str, Any]:
    """A run killed after a checkpoint and run again, against an uninterrupted run of the same config
    file, step by step. fp32 even on a GPU: what resuming restores (weights, optimizer and schedule, the
    data position) does not depend on the precision, and fp32 steps repeat to ~1e-6 where bf16 ones
    differ by ~0.5 % (run 1's ZeRO stages), as much as the loss differs between two neighbouring
    batches; so a skipped or repeated batch shows here. Steps before the kill are compared too: a
    difference there is between the two runs' settings, not in resuming."""
    from rs_clip_train import TrainConfig, fit

    p = suite.profile
    cfg = run_config(suite, "resume", steps=p.resume_steps, batch=p.zero_batch, log_every=1, model=p.model)
    cfg.checkpoint_every, cfg.engine.precision = p.resume_every, "fp32"
    if suite.cuda:
        # Gentler than the train part's lr: no loss spikes whose timing rounding would decide (run 1, bf16 at
        # 2e-4: losses 77 % apart at one step while the final weights agreed to 0.003).
        cfg.optim.lr = 2e-5
    cfg.data.loader_workers = 1  # slower steps: the kill lands between two checkpoints
    run_dir = Path(cfg.out)
    run_dir.mkdir(parents=True)
    config = run_dir.parent / "resume.yaml"
    config.write_text(cfg.to_yaml())
    command = [
        sys.executable,
        "-m",
        "rs_clip_train",
        "fit",
        "--config",
        str(config),
        "--launcher",
        "none",
        "--no-progress",
        "-q",
    ]
    env = {
        k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
    }
    log = open(run_dir.parent / "resume.log", "w")  # noqa: SIM115 - both runs append to it
    first = subprocess.Popen(command, stdout=log, stderr=log, env=env, start_new_session=True)
    killed_at = _wait_for_checkpoint(first, run_dir, p.resume_every, timeout=300)
    if killed_at is None:
        first.kill()
    before = losses(
        run_dir
    )  # the interrupted attempt's steps, the resumed run drops those after the checkpoint
    second = subprocess.run(command, stdout=log, stderr=log, env=env, timeout=300)
    log.close()
    reference = TrainConfig.from_yaml(config.read_text(), str(config))  # the very same settings
    reference.out = str(suite.work / "runs" / "resume-reference")
    fit(reference, progress=False)
    starts = [r["step"] for r in metrics(run_dir) if r.get("event") == "start"]
    resumed, uninterrupted = losses(run_dir), losses(reference.out)
    cut = p.resume_every
    after = {k: v for k, v in resumed.items() if k > cut}
    weights = max_weight_diff(
        stored_weights((run_dir / "final").resolve()),
        stored_weights((Path(reference.out) / "final").resolve()),
    )
    tol = 1e-3 if suite.cuda else 1e-4
    pre = rel_diff(
        {k: v for k, v in before.items() if k <= cut}, {k: v for k, v in uninterrupted.items() if k <= cut}
    )
    post = rel_diff(after, {k: v for k, v in uninterrupted.items() if k > cut})
    checks = {
        "killed_between_checkpoints": {"value": killed_at, "ok": killed_at is not None},
        "rerun_exit_status": {"value": second.returncode, "ok": second.returncode == 0},
        "resumed_from": {"value": starts, "target": [0, cut], "ok": starts == [0, cut]},
        "loss_before_kill_vs_uninterrupted": {"value": pre, "target": tol, "ok": pre <= tol},
        "loss_after_resume_vs_uninterrupted": {
            "value": post,
            "target": tol,
            "ok": post <= tol,
            "best_batch_offset": best_offset(after, uninterrupted),
        },
        "weights_vs_uninterrupted": {"value": weights},
    }
    if second.returncode != 0:
        checks["rerun_exit_status"]["log_tail"] = (run_dir.parent / "resume.log").read_text()[-2000:]
    return {
        "steps": p.resume_steps,
        "checkpoint_every": cut,
        "precision": "fp32",
        "loss": {"interrupted": before, "resumed": resumed, "uninterrupted": uninterrupted},
        "checks": checks,
    }


def best_offset(after: dict[int, float], reference: dict[int, float]) -> int | None:
    """Which shift of the reference's steps (-1, 0, +1) the resumed losses match best: 0 unless a batch
    was skipped (+1) or repeated (-1) when resuming."""
    errors = {}
    for shift in (-1, 0, 1):
        pairs = [(v, reference[k + shift]) for k, v in after.items() if k + shift in reference]
        if pairs:
            errors[shift] = sum(abs(a - b) for a, b in pairs) / len(pairs)
    return min(errors, key=errors.get) if errors else None
