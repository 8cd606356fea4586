"""End to end on a local Ray with 2 CPU workers through DeepSpeed: checkpoints, exact resume, failures."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ARGS, EVERY, STEPS, cli, losses

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
# interrupted_run.py trains with ARGS and 2 workers too: runs with them are comparable step for step.
RAY_ARGS = [*ARGS, "--workers", "2"]


def _assert_only_complete_checkpoints(run_dir: Path) -> list[int]:
    from rs_formats import read_checkpoint

    root = run_dir / "checkpoints"
    steps = []
    for entry in root.iterdir():
        if entry.name.startswith(".") or entry.name == "latest":
            continue  # staging dirs are hidden; readers never take them for checkpoints
        steps.append(read_checkpoint(entry).step)
    return sorted(steps)


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for the in-process runs of this module (fit() uses a running session as is)."""
    from rs_formats.cluster import ray_session

    with ray_session(None, dashboard=True):
        yield


@pytest.fixture(scope="module")
def reference(ray_run) -> Path:
    return ray_run


def test_fit_writes_a_checkpoint_open_clip_loads_and_learns(reference: Path, tmp_path: Path):
    import open_clip
    import torch
    from safetensors.torch import load_file

    from rs_formats.checkpoint import WEIGHTS

    final = reference / "final"
    assert final.resolve() == (reference / "checkpoints" / "step-00000012").resolve()
    assert (reference / "checkpoints" / "latest").resolve() == final.resolve()
    assert _assert_only_complete_checkpoints(reference) == [4, 8, 12]  # keep 3
    manifest = json.loads((final / "manifest.json").read_text())
    assert manifest["format"] == "rs-clip-checkpoint" and manifest["step"] == STEPS
    assert manifest["dataset"]["name"] == "synth-rsicd" and manifest["config"]["workers"] == 2

    # open_clip alone: the architecture from the checkpoint's own config, the weights by file name.
    cfg = json.loads((final / "open_clip_config.json").read_text())
    (tmp_path / "from-ckpt.json").write_text(json.dumps(cfg["model_cfg"]))
    open_clip.add_model_config(tmp_path)
    model, _, _ = open_clip.create_model_and_transforms("from-ckpt", pretrained=str(final / WEIGHTS))
    state = load_file(str(final / WEIGHTS))
    assert model.logit_scale.dim() == 0
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())

    curve = losses(reference)
    assert sorted(curve) == list(range(1, STEPS + 1))
    first, last = sum(curve[s] for s in (1, 2, 3)) / 3, sum(curve[s] for s in (10, 11, 12)) / 3
    assert last < first - 0.5, curve


def test_the_console_shows_the_tools_lines_and_the_workers_output_is_in_the_run_logs(reference: Path):
    # Ray Train's start-up narration, the placement-group cleaner, DeepSpeed's op builds and torch's CUDA
    # notice stay off the console: what the command says is its own.
    console = (reference.parent / "ray.stderr").read_text().splitlines()
    assert console and all(line.startswith("rs-clip-train: ") for line in console), console
    logs = sorted(p.name for p in (reference / "logs").iterdir())
    assert logs == ["worker-0.log", "worker-1.log"]
    assert any(f"{reference / 'logs'}" in line for line in console)  # and the console says where they are


def test_resume_after_the_driver_is_killed_is_exact(reference: Path, caption_ds, tmp_path: Path):
    run_dir = tmp_path / "interrupted"
    # The driver is killed (SIGKILL, from a worker) after step 6; the last checkpoint is step 4.
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "interrupted_run.py"), str(caption_ds), str(run_dir), str(STEPS), "6"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=300)
    finally:
        # Ray processes the dead driver started (same session) go with it.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert proc.returncode == -signal.SIGKILL, out[-3000:]
    assert _assert_only_complete_checkpoints(run_dir) == [4]
    assert not (run_dir / "final").exists()

    resumed = cli("fit", *RAY_ARGS, "--data", str(caption_ds), "--out", str(run_dir))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    want, got = losses(reference), losses(run_dir)
    assert sorted(got) == sorted(want)
    for step in want:
        assert got[step] == pytest.approx(want[step], rel=1e-6, abs=1e-7), step
    starts = [
        json.loads(x)["step"] for x in (run_dir / "metrics.jsonl").read_text().splitlines() if '"start"' in x
    ]
    assert starts == [0, 4]


def test_a_killed_worker_is_restarted_from_the_last_checkpoint(
    reference: Path, caption_ds, tmp_path: Path, local_ray
):
    from rs_clip_train import DataSource, fit, preset

    marker = tmp_path / "killed-once"

    def kill_rank1_once(step: int, rank: int, metrics) -> None:
        if step == 6 and rank == 1 and not marker.exists():
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)

    cfg = preset("tiny")
    cfg.data.sources = [DataSource(str(caption_ds))]
    cfg.out, cfg.steps, cfg.workers = str(tmp_path / "run"), STEPS, 2
    cfg.checkpoint_every, cfg.log_every, cfg.data.loader_workers, cfg.max_failures = EVERY, 1, 1, 1
    final = fit(cfg, step_callback=kill_rank1_once, progress=False)
    assert marker.exists()
    assert final.name == "step-00000012"
    run_dir = tmp_path / "run"
    starts = [
        json.loads(x)["step"] for x in (run_dir / "metrics.jsonl").read_text().splitlines() if '"start"' in x
    ]
    assert starts == [0, 4]
    want, got = losses(reference), losses(run_dir)
    for step in want:
        assert got[step] == pytest.approx(want[step], rel=1e-6, abs=1e-7), step


def test_a_failing_run_reports_the_error_and_leaves_only_complete_checkpoints(
    caption_ds, tmp_path: Path, local_ray
):
    from rs_clip_train import DataSource, TrainingFailed, fit, preset

    def fail(step: int, rank: int, metrics) -> None:
        if step == 3:
            raise RuntimeError("disk on fire at step 3")

    cfg = preset("tiny")
    cfg.data.sources = [DataSource(str(caption_ds))]
    cfg.out, cfg.steps, cfg.checkpoint_every, cfg.max_failures = str(tmp_path / "run"), 6, 2, 0
    cfg.data.loader_workers = 0
    cfg.eval_data, cfg.eval_split = str(caption_ds), "train"  # retrieval scored at each checkpoint
    with pytest.raises(TrainingFailed, match="disk on fire at step 3"):
        fit(cfg, step_callback=fail, progress=False)
    run_dir = tmp_path / "run"
    assert _assert_only_complete_checkpoints(run_dir) == [2]
    assert not (run_dir / "final").exists()

    # The evaluation of checkpoint 2 is the one rs-clip-eval computes from the checkpoint on disk.
    from rs_clip_eval.retrieval import retrieval_metrics
    from rs_clip_models.encoding import encode_images, encode_texts
    from rs_clip_models.models import create_model
    from rs_formats import open_dataset
    from rs_formats.columns import captions_of

    logged = next(
        json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines() if "eval/mean_recall" in x
    )
    ckpt = run_dir / "checkpoints" / "step-00000002"
    assert logged["step"] == 2
    assert (
        json.loads((ckpt / "manifest.json").read_text())["metrics"]["eval/mean_recall"]
        == logged["eval/mean_recall"]
    )
    model, preprocess, tokenizer = create_model(ckpt)
    ds = open_dataset(caption_ds)
    texts, owner = captions_of(ds, "train")
    again = retrieval_metrics(
        encode_images(model, preprocess, ds, "train", num_workers=0, progress=False),
        encode_texts(model, tokenizer, texts),
        owner,
    )
    assert again["mean_recall"] == pytest.approx(logged["eval/mean_recall"], abs=1e-6)


def test_a_diverging_run_exits_1_naming_the_step(caption_ds, tmp_path: Path):
    # A learning rate of 1e30 turns the weights non-finite after the first update. One plain process (no
    # Ray to start): how a training error becomes exit 1 is the command's, whatever the launcher.
    proc = cli(
        "fit",
        "--launcher",
        "none",
        "--preset",
        "tiny",
        "--steps",
        "4",
        "--lr",
        "1e30",
        "--log-every",
        "1",
        "--loader-workers",
        "0",
        "--data",
        str(caption_ds),
        "--out",
        str(tmp_path / "run"),
    )
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert len([x for x in proc.stderr.splitlines() if "error" in x]) == 1
    assert "rs-clip-train: error: training failed: FloatingPointError: " in proc.stderr
    assert "training diverged; lower the lr" in proc.stderr or "loss is nan" in proc.stderr
    assert proc.stdout == ""


def test_more_workers_than_the_local_machine_holds_is_an_error_not_a_hang(local_ray):
    import ray

    from rs_clip_train import ConfigError
    from rs_clip_train.launch_ray import check_resources

    cpus = ray.cluster_resources()["CPU"]
    check_resources(int(cpus), {"CPU": 1.0})
    with pytest.raises(ConfigError, match=r"need .* CPU, but the Ray cluster has"):
        check_resources(int(cpus) + 1, {"CPU": 1.0})
    with pytest.raises(ConfigError, match="GPU"):
        check_resources(1, {"CPU": 1.0, "GPU": 1.0})
