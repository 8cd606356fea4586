"""Each package installs alone in a fresh venv with only the dependencies its own job needs.

These tests build real virtual environments with pip (from the machine's package index), so they are
slow (about a minute for the torch one) and run in CI like every other test.
"""

from __future__ import annotations

import subprocess
import venv
from pathlib import Path

import pytest
from conftest import PACKAGES

pytestmark = pytest.mark.slow


def make_venv(path: Path) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return path / "bin" / "python"


def run(python: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(python), *args], capture_output=True, text=True)
    assert not check or proc.returncode == 0, f"{args} failed:\n{proc.stderr[-3000:]}"
    return proc


def pip_install(python: Path, *targets: str) -> None:
    proc = run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *targets, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]


def installed(python: Path) -> set[str]:
    out = run(python, "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check").stdout
    return {line.split("==")[0].lower().replace("_", "-") for line in out.splitlines() if "==" in line}


def test_rs_annotate_installs_and_runs_without_torch(tmp_path):
    py = make_venv(tmp_path / "venv")
    pip_install(py, str(PACKAGES / "rs-formats"), str(PACKAGES / "rs-annotate"))
    assert "torch" not in installed(py)
    proc = run(py, "-c", "import torch", check=False)
    assert proc.returncode != 0 and "No module named 'torch'" in proc.stderr
    proc = run(py, "-c", "import rs_annotate, rs_annotate.cli, rs_formats; print('ok')")
    assert proc.stdout.strip() == "ok"
    assert run(py, "-m", "rs_annotate.cli", "--help").returncode == 0


def test_rs_count_and_rs_clip_eval_install_without_ray_or_deepspeed(tmp_path):
    py = make_venv(tmp_path / "venv")
    formats = f"{PACKAGES / 'rs-formats'}[torch]"
    # rs-clip-eval alone (it reads class names with rs-annotate's rule, which is torch-free)
    pip_install(py, formats, str(PACKAGES / "rs-annotate"), str(PACKAGES / "rs-clip-eval"))
    have = installed(py)
    assert "torch" in have and "open-clip-torch" in have
    assert not {"ray", "deepspeed", "rs-synth", "rs-count"} & have
    probe = "import sys, {m}, {m}.cli; assert not {{'ray', 'deepspeed'}} & set(sys.modules); print('ok')"
    assert run(py, "-c", probe.format(m="rs_clip_eval")).stdout.strip() == "ok"
    # --suite demo used to need rs-synth, a test package; synthetic sets are rs-synth's own now
    proc = run(py, "-m", "rs_clip_eval.cli", "run", "--model", "RS-Tiny", "--suite", "demo", "--out",
               str(tmp_path / "o"), check=False)
    assert proc.returncode == 2 and "no such suite file" in proc.stderr

    # rs-count on top: its parts come from rs-annotate (torch-free) and rs-clip-eval (no Ray/DeepSpeed)
    pip_install(py, formats, str(PACKAGES / "rs-annotate"), str(PACKAGES / "rs-clip-eval"), str(PACKAGES / "rs-count"))
    assert not {"ray", "deepspeed", "rs-synth"} & installed(py)
    assert run(py, "-c", probe.format(m="rs_count")).stdout.strip() == "ok"
    version = run(py, "-m", "rs_count.cli", "--version").stdout.split()
    assert version[0] == "rs-count" and version[1] != "0+unknown"

