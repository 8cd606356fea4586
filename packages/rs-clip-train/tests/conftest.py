"""Shared fixtures: a small learnable caption dataset, the CPU environment, and the training runs several
modules compare, each trained once per session: under Ray, as a torchrun job, and at ZeRO stages 1-3."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

# What the CPU path needs (the package sets these itself too; tests pin them before anything imports).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("DS_ACCELERATOR", "cpu")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")


def write_caption_dataset(
    path: Path,
    n: int = 192,
    seed: int = 0,
    row_group_rows: int = 32,
    kind: str = "captions",
    name: str = "synth-rsicd",
    size: int = 96,
    splits: tuple[str, ...] = ("train",),
    spoil: dict[int, dict] | None = None,
) -> Path:
    """An rs-dataset v1 of ``n`` rs-synth aerial scenes with their five captions, written through rs_formats;
    row ``i`` goes to ``splits[i % len(splits)]``.

    rs-synth writes RSICD-style files (what rs-annotate would convert); packing them here directly keeps
    these tests independent of rs-annotate. ``spoil`` replaces fields of the rows at some indices.
    """
    from rs_formats import DatasetWriter
    from rs_synth import FORMATS

    with tempfile.TemporaryDirectory() as tmp:
        truth = FORMATS["rsicd"].write(Path(tmp) / "rsicd", n=n, seed=seed, size=size)
        with DatasetWriter(
            path,
            name=name,
            kind=kind,
            generator="rs-clip-train tests",
            class_names=["scene"] if kind == "classification" else None,
            row_group_rows=row_group_rows,
        ) as w:
            for im in truth.images:
                w.write(
                    {
                        "image_id": f"{name}/{im.index:05d}",
                        "source": name,
                        "image": (Path(tmp) / "rsicd" / im.image).read_bytes(),
                        "width": im.width,
                        "height": im.height,
                        "captions": list(im.captions),
                        "label": 0 if kind == "classification" else None,
                        **(spoil or {}).get(im.index, {}),
                    },
                    split=splits[im.index % len(splits)],
                )
    return path


@pytest.fixture(scope="session")
def caption_ds(tmp_path_factory) -> Path:
    return write_caption_dataset(tmp_path_factory.mktemp("data") / "toy")


STEPS, EVERY = 12, 4
#: One run's settings, shared by every launcher and ZeRO stage so that runs compare step for step.
ARGS = [
    "--preset",
    "tiny",
    "--steps",
    str(STEPS),
    "--checkpoint-every",
    str(EVERY),
    "--log-every",
    "1",
    "--loader-workers",
    "1",
]


def cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """``rs-clip-train ARGS`` in a fresh process (the default launcher: Ray)."""
    return subprocess.run(
        [sys.executable, "-m", "rs_clip_train", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="session")
def no_ray(tmp_path_factory) -> dict[str, str]:
    """An environment in which ``import ray`` fails: what runs in it provably trains without Ray."""
    blocker = tmp_path_factory.mktemp("no-ray")
    (blocker / "ray.py").write_text("raise ImportError('ray is blocked in this test')\n")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), os.environ.get("PYTHONPATH", "")])}


def torchrun(
    env: dict[str, str], *args: str, nproc: int = 2, timeout: int = 300
) -> subprocess.CompletedProcess:
    """``torchrun --nproc-per-node NPROC ARGS``, as a SLURM or torchrun user starts a job."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def torchrun_job(env: dict[str, str], runs: list[list[str]], timeout: int = 600) -> None:
    """Several ``fit`` runs, one after the other, in one torchrun job of 2 processes (tests/torchrun_job.py)."""
    proc = torchrun(env, str(Path(__file__).with_name("torchrun_job.py")), json.dumps(runs), timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]


def losses(run_dir: Path) -> dict[int, float]:
    out = {}
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if "loss" in rec:
            out[rec["step"]] = rec["loss"]
    return out


@pytest.fixture(scope="session")
def ray_run(caption_ds, tmp_path_factory) -> Path:
    """The reference run: the command line's default launcher (a local Ray), 2 workers, ZeRO-0."""
    run_dir = tmp_path_factory.mktemp("runs") / "ray"
    proc = cli("fit", *ARGS, "--workers", "2", "--data", str(caption_ds), "--out", str(run_dir))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == str((run_dir / "final").resolve())  # stdout: the final checkpoint
    (run_dir.parent / "ray.stderr").write_text(proc.stderr)  # what the console showed
    return run_dir


@pytest.fixture(scope="session")
def torchrun_run(caption_ds, tmp_path_factory, no_ray) -> Path:
    """The same run as :func:`ray_run` as ``torchrun --nproc-per-node 2 -m rs_clip_train fit``, with Ray
    unimportable (ZeRO-0)."""
    run_dir = tmp_path_factory.mktemp("runs") / "torchrun-zero0"
    proc = torchrun(
        no_ray, "-m", "rs_clip_train", "fit", *ARGS, "--data", str(caption_ds), "--out", str(run_dir)
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == str((run_dir / "final").resolve())  # printed once, by rank 0
    return run_dir


@pytest.fixture(scope="session")
def zero_runs(caption_ds, tmp_path_factory, no_ray) -> dict[int, Path]:
    """The same run at ZeRO stages 1, 2 and 3, as 2 torchrun processes (one job; Ray unimportable)."""
    root = tmp_path_factory.mktemp("runs")
    runs = {stage: root / f"zero{stage}" for stage in (1, 2, 3)}
    torchrun_job(
        no_ray,
        [
            [*ARGS, "--zero-stage", str(stage), "--data", str(caption_ds), "--out", str(out)]
            for stage, out in runs.items()
        ],
    )
    return runs
