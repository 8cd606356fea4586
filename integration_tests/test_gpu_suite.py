"""The GPU suite's CPU smoke (bench/gpu_suite.py without CUDA): the same code paths as on a GPU, at toy
sizes, so that the suite a GPU run depends on cannot rot between GPU runs.

It runs as a user runs it (a subprocess, its JSON file the only interface) with Ray made unimportable:
the suite must need only torch, open_clip, DeepSpeed, pyarrow and the rs-clip packages.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GPU_ONLY = {"speed_b32_compiled", "speed_l14", "eval_l14", "compile"}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gpu-suite")
    out = tmp / "suite.json"
    # A module finder that refuses ray and rs_synth, ahead of everything on the path.
    block = tmp / "block"
    block.mkdir()
    (block / "sitecustomize.py").write_text(
        "import sys\n"
        "class _Refuse:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('ray', 'rs_synth'):\n"
        "            raise ModuleNotFoundError(f'{name} is not on a GPU machine (blocked by the test)')\n"
        "sys.meta_path.insert(0, _Refuse())\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(block), os.environ.get("PYTHONPATH", "")]),
        "CUDA_VISIBLE_DEVICES": "",
    }
    env.setdefault("TORCH_EXTENSIONS_DIR", str(REPO / ".cache" / "torch_extensions"))
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "gpu_suite.py"),
            "--out",
            str(out),
            "--work",
            str(tmp / "work"),
            "--budget-s",
            "600",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return proc, json.loads(out.read_text()) if out.exists() else None


@pytest.mark.slow  # two training processes, several runs: about a minute
def test_the_smoke_runs_every_part_or_says_why_not(smoke):
    proc, result = smoke
    assert result is not None, proc.stderr[-3000:]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert result["mode"] == "cpu-smoke" and result["process_group_backend"] == "gloo"
    ran, skipped = set(result["parts"]), set(result["skipped"])
    assert ran == {"data", "decode", "train", "zero", "resume", "speed_b32", "eval_b32"}
    assert skipped == GPU_ONLY
    assert all(
        reason.startswith("needs CUDA: ") and len(reason) > 30 for reason in result["skipped"].values()
    )
    assert all(part["status"] == "ok" for part in result["parts"].values()), result["parts"]
    assert "skipped: needs CUDA" in proc.stdout  # the table says it too


@pytest.mark.slow  # two training processes, several runs: about a minute
def test_the_smoke_checks_what_the_gpu_run_checks(smoke):
    _, result = smoke
    parts = result["parts"]
    decode = parts["decode"]["checks"]
    assert all(check["ok"] for check in decode.values())  # torchvision's decoder vs PIL
    # Both libjpeg-turbo on a CPU: held to what nvjpeg is not (no value far off at all).
    far = [c for name, c in decode.items() if "_share_over_" in name]
    assert len(far) == 3 and all(c["value"] == 0 and c["max"] <= 24 for c in far), decode
    train = parts["train"]["checks"]
    assert train["bare_open_clip_same_weights"]["value"] == 0.0
    assert train["loss_falls"]["value"] < 0.9
    zero = parts["zero"]["checks"]
    assert all(zero[f"stage{s}_loss_vs_stage0"]["value"] <= 1e-4 for s in (1, 2, 3))
    resume = parts["resume"]["checks"]
    assert resume["resumed_from"]["value"] == [0, result["profile"]["resume_every"]]
    assert resume["loss_before_kill_vs_uninterrupted"]["value"] <= 1e-4
    assert resume["loss_after_resume_vs_uninterrupted"]["value"] <= 1e-4
    assert resume["loss_after_resume_vs_uninterrupted"]["best_batch_offset"] == 0
    every, steps = result["profile"]["resume_every"], result["profile"]["resume_steps"]
    assert set(map(int, parts["resume"]["loss"]["resumed"])) == set(range(1, steps + 1))
    assert max(map(int, parts["resume"]["loss"]["interrupted"])) > every  # killed after the checkpoint
    for part, key in (("speed_b32", "pairs_per_s"), ("eval_b32", "images_per_s")):
        group = parts[part]["by_batch"]["8"] if part == "speed_b32" else parts[part]
        assert all(rate > 0 for rate in group[key].values()), group
        assert group["ratios"], group


def test_only_takes_comma_lists_and_repeated_flags():
    sys.path.insert(0, str(REPO / "bench"))
    import gpu_suite

    args = gpu_suite.parse_args(["--only", "train,speed_b32", "--only", "compile"])
    assert args.only == ["train", "speed_b32", "compile"]
    assert gpu_suite.parse_args([]).only is None
    with pytest.raises(SystemExit):
        gpu_suite.parse_args(["--only", "train,bogus"])


def test_a_skipped_or_repeated_batch_shows_as_an_offset():
    sys.path.insert(0, str(REPO / "bench"))
    from gpu_resume import best_offset

    reference = {step: 4.0 + 0.1 * ((step * 7) % 5) for step in range(1, 14)}
    after = range(7, 13)
    assert best_offset({k: reference[k] for k in after}, reference) == 0
    assert best_offset({k: reference[k + 1] for k in after}, reference) == 1  # a batch skipped
    assert best_offset({k: reference[k - 1] for k in after}, reference) == -1  # a batch done twice


def test_decoder_agreement_tolerates_edge_pixels_not_a_wrong_image():
    sys.path.insert(0, str(REPO / "bench"))
    import torch
    from gpu_decoders import agreement

    g = torch.Generator().manual_seed(0)
    levels = torch.randint(0, 2, (64, 3, 32, 32), generator=g).float()  # mostly a level apart
    levels.view(-1)[torch.randperm(levels.numel(), generator=g)[: levels.numel() // 300]] = 60  # edge pixels
    assert all(c["ok"] for c in agreement("nvjpeg", levels).values())
    assert agreement("nvjpeg", levels)["nvjpeg_share_over_32_levels"]["max"] == 60
    garbled = levels.clone()
    garbled[3] = 12  # one image of 64 wrong throughout: the overall mean stays under 1 level
    checks = agreement("garbled", garbled)
    assert checks["garbled_mean_levels"]["ok"] and not checks["garbled_worst_image_mean_levels"]["ok"]
    shifted = levels + 3  # every image off (a shift, another filter)
    assert not agreement("shifted", shifted)["shifted_mean_levels"]["ok"]
