"""ZeRO stages 1, 2 and 3 with two workers (torchrun processes, the cheapest launcher): ZeRO-0's loss
curve, checkpoints that bare open_clip loads with the same weights, and an exact resume.

The stages train in one torchrun job and their resumed runs in another (tests/torchrun_job.py): the
processes import torch, DeepSpeed and open_clip once per job instead of once per run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import ARGS, EVERY, STEPS, losses, torchrun_job

from rs_formats.checkpoint import WEIGHTS

pytestmark = pytest.mark.slow

STAGES = [1, 2, 3]


def _weights(checkpoint: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(checkpoint / WEIGHTS))


@pytest.fixture(scope="module")
def resumed(zero_runs, no_ray, caption_ds, tmp_path_factory) -> dict[int, Path]:
    """Each stage's run stopped after its first checkpoint (the later ones and the final link never
    written), then run again with the same command."""
    root = tmp_path_factory.mktemp("resumed")
    later = {f"step-{step:08d}" for step in range(2 * EVERY, STEPS + 1, EVERY)} | {"final", "latest"}
    runs = {}
    for stage, full in zero_runs.items():
        runs[stage] = root / f"zero{stage}"
        shutil.copytree(
            full, runs[stage], symlinks=True, ignore=lambda _, names: [n for n in names if n in later]
        )
        (runs[stage] / "checkpoints" / "latest").symlink_to(f"step-{EVERY:08d}")
    torchrun_job(
        no_ray,
        [
            [*ARGS, "--zero-stage", str(stage), "--data", str(caption_ds), "--out", str(out)]
            for stage, out in runs.items()
        ],
    )
    return runs


@pytest.mark.parametrize("stage", STAGES)
def test_the_stage_trains_like_zero0_and_saves_weights_bare_open_clip_loads(torchrun_run, zero_runs, stage):
    import open_clip
    import torch

    run = zero_runs[stage]
    want, got = losses(torchrun_run), losses(run)
    assert sorted(got) == list(range(1, STEPS + 1))
    for step in want:  # partitioned reductions sum in another order: equal up to float rounding
        assert got[step] == pytest.approx(want[step], rel=1e-5), step

    final = run / "final"
    manifest = json.loads((final / "manifest.json").read_text())
    assert manifest["step"] == STEPS and manifest["config"]["engine"]["zero_stage"] == stage
    # open_clip alone, from the checkpoint directory (its own config: RS-Tiny is not an open_clip model).
    model, _, _ = open_clip.create_model_and_transforms(f"local-dir:{final}")
    stored, base = _weights(final), _weights(torchrun_run / "final")
    state = model.state_dict()
    assert state.keys() == stored.keys() == base.keys() and model.logit_scale.dim() == 0
    for k, v in state.items():
        assert torch.equal(v, stored[k]), k  # what open_clip loads is what was written
        assert (v - base[k]).abs().max() <= 1e-4 * (1 + base[k].abs().max()), k  # ... and ZeRO-0's weights


@pytest.mark.parametrize("stage", STAGES)
def test_the_stage_resumes_exactly(zero_runs, resumed, stage):
    import torch

    full, run_dir = zero_runs[stage], resumed[stage]
    assert losses(run_dir) == losses(full)  # bit for bit
    starts = [
        json.loads(x)["step"] for x in (run_dir / "metrics.jsonl").read_text().splitlines() if '"start"' in x
    ]
    assert starts == [0, EVERY]
    a, b = _weights(full / "final"), _weights(run_dir / "final")
    assert all(torch.equal(a[k], b[k]) for k in a)
