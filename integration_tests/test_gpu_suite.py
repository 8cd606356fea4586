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

pytestmark = pytest.mark.slow  # two training processes, several runs: about a minute

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
        "sys.meta_path.insert(0, _Refuse())\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(block), os.environ.get("PYTHONPATH", "")]),
           "CUDA_VISIBLE_DEVICES": ""}
    env.setdefault("TORCH_EXTENSIONS_DIR", str(REPO / ".cache" / "torch_extensions"))
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "gpu_suite.py"), "--out", str(out),
                           "--work", str(tmp / "work"), "--budget-s", "600"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    return proc, json.loads(out.read_text()) if out.exists() else None


def test_the_smoke_runs_every_part_or_says_why_not(smoke):
    proc, result = smoke
    assert result is not None, proc.stderr[-3000:]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert result["mode"] == "cpu-smoke" and result["process_group_backend"] == "gloo"
    ran, skipped = set(result["parts"]), set(result["skipped"])
    assert ran == {"data", "decode", "train", "zero", "resume", "speed_b32", "eval_b32"}
    assert skipped == GPU_ONLY
    assert all(reason.startswith("needs CUDA: ") and len(reason) > 30 for reason in result["skipped"].values())
    assert all(part["status"] == "ok" for part in result["parts"].values()), result["parts"]
    assert "skipped: needs CUDA" in proc.stdout  # the table says it too


def test_the_smoke_checks_what_the_gpu_run_checks(smoke):
    _, result = smoke
    parts = result["parts"]
    assert all(check["ok"] for check in parts["decode"]["checks"].values())  # torchvision's decoder vs PIL
    train = parts["train"]["checks"]
    assert train["bare_open_clip_same_weights"]["value"] == 0.0
    assert train["loss_falls"]["value"] < 0.9
    zero = parts["zero"]["checks"]
    assert all(zero[f"stage{s}_loss_vs_stage0"]["value"] <= 1e-4 for s in (1, 2, 3))
    resume = parts["resume"]["checks"]
    assert resume["resumed_from"]["value"] == [0, result["profile"]["resume_every"]]
    assert resume["loss_vs_uninterrupted"]["value"] <= 1e-4
    for part, key in (("speed_b32", "pairs_per_s"), ("eval_b32", "images_per_s")):
        group = parts[part]["by_batch"]["8"] if part == "speed_b32" else parts[part]
        assert all(rate > 0 for rate in group[key].values()), group
        assert group["ratios"], group
