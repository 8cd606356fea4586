"""The launcher-free core: torchrun's processes (and one plain process) train like Ray Train, without Ray."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EVERY, STEPS, losses, write_caption_dataset

from rs_formats.checkpoint import WEIGHTS

pytestmark = pytest.mark.slow


def _tree(checkpoint: Path) -> list[str]:
    return sorted(p.relative_to(checkpoint).as_posix() for p in checkpoint.rglob("*") if p.is_file())


def test_torchrun_processes_train_like_ray_train(ray_run: Path, torchrun_run: Path):
    from safetensors.torch import load_file

    plain = torchrun_run
    # The same loss curve (both are 2 workers on gloo; the float sums may differ in their last bits).
    want, got = losses(ray_run), losses(plain)
    assert sorted(got) == sorted(want) == list(range(1, STEPS + 1))
    for step in want:
        assert got[step] == pytest.approx(want[step], rel=1e-5), step
    start = [json.loads(x) for x in (plain / "metrics.jsonl").read_text().splitlines() if '"start"' in x]
    assert [(s["step"], s["world_size"]) for s in start] == [(0, 2)]

    # The same checkpoint contract: the same checkpoints, files, manifest and (nearly) the same weights.
    names = sorted(p.name for p in (plain / "checkpoints").glob("step-*"))
    assert names == sorted(p.name for p in (ray_run / "checkpoints").glob("step-*"))
    assert names == [f"step-{s:08d}" for s in range(EVERY, STEPS + 1, EVERY)]
    assert (plain / "final").resolve() == (plain / "checkpoints" / names[-1]).resolve()
    for name in names:
        a, b = ray_run / "checkpoints" / name, plain / "checkpoints" / name
        assert _tree(a) == _tree(b)
        ma, mb = (json.loads((c / "manifest.json").read_text()) for c in (a, b))
        assert set(mb["sha256"]) == set(_tree(b)) - {"manifest.json", "open_clip_config.json", "README.md"}
        for key in ("format", "format_version", "model", "step", "dataset"):
            assert ma[key] == mb[key], key
        assert ma["config"] == {**mb["config"], "out": str(ray_run)}  # one run's settings, launcher auto
        assert mb["metrics"]["loss"] == pytest.approx(ma["metrics"]["loss"], rel=1e-5)
    wa, wb = (
        load_file(str(ray_run / "final" / WEIGHTS)),
        load_file(str(plain / "final" / WEIGHTS)),
    )
    assert wa.keys() == wb.keys()
    for k in wa:
        assert (wa[k] - wb[k]).abs().max() <= 1e-4 * (1 + wa[k].abs().max()), k


SINGLE = """
import sys
from rs_clip_train.cli import main
code = main(sys.argv[1:])
print("ray imported:", "ray" in sys.modules, file=sys.stderr)
sys.exit(code)
"""


@pytest.fixture(scope="module")
def bad_rows_ds(tmp_path_factory) -> Path:
    """64 rows, two of them bad: one whose image does not decode, one without a caption."""
    return write_caption_dataset(
        tmp_path_factory.mktemp("data") / "bad-rows",
        n=64,
        row_group_rows=16,
        name="bad-rows",
        spoil={5: {"image": b"\xff\xd8\xff not a JPEG"}, 9: {"captions": []}},
    )


def test_one_plain_process_trains_without_importing_ray_and_names_skipped_rows(bad_rows_ds, tmp_path):
    run_dir = tmp_path / "run"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            SINGLE,
            "fit",
            "--launcher",
            "none",
            "--preset",
            "tiny",
            "--steps",
            "2",
            "--batch-size",
            "32",
            "--log-every",
            "1",
            "--loader-workers",
            "1",
            "--data",
            str(bad_rows_ds),
            "--out",
            str(run_dir),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "ray imported: False" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout.strip() == str((run_dir / "final").resolve())
    # Both bad rows fall in the first 64 samples the single reader draws; each is named and counted.
    where = f"rs-clip-train: warning: {bad_rows_ds}: split 'train': "
    assert f"{where}image 'bad-rows/00009' has no caption; skipped (counted in skipped_rows)" in proc.stderr
    assert f"{where}image 'bad-rows/00005': cannot decode image: " in proc.stderr
    records = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines() if '"loss"' in x]
    assert sum(r["skipped_rows"] for r in records) == 2
    assert json.loads((run_dir / "final" / "manifest.json").read_text())["config"]["workers"] == 1


def test_the_launcher_is_chosen_from_the_setting_and_torchrun_variables(monkeypatch, caption_ds):
    from rs_clip_train import ConfigError, DataSource, preset
    from rs_clip_train.launch_common import choose_launcher
    from rs_clip_train.launch_torchrun import with_world

    cfg = preset("tiny")
    cfg.data.sources = [DataSource(str(caption_ds))]
    for var in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(var, raising=False)
    assert choose_launcher(cfg) == "ray"
    cfg.launcher = "none"
    assert choose_launcher(cfg) == "none" and with_world(cfg).workers == 1
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", "29500")
    cfg.launcher = "auto"
    assert choose_launcher(cfg) == "none" and with_world(cfg).workers == 4
    cfg.workers = 3
    with pytest.raises(ConfigError, match=r"--workers 3, but 4 processes were started \(WORLD_SIZE\)"):
        with_world(cfg)
    cfg.launcher = "ray"
    with pytest.raises(ConfigError, match="--launcher ray in a process torchrun started"):
        choose_launcher(cfg)
