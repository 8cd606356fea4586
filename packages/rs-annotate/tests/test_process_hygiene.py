"""Killing a multi-worker ``rs-annotate convert`` leaves no process behind, and its staging is cleared.

The command runs as a real subprocess in its own session. Once its worker processes exist it is killed;
every process it started (forkserver, resource tracker, workers) must then end on its own. Linux only
(processes are found through /proc).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rs_annotate.cli import main

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[1])


def descendants(pid: int) -> set[int]:
    parents = {int(p): _stat(int(p)) for p in os.listdir("/proc") if p.isdigit()}
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for child, st in parents.items():
            if st is not None and st[1] == parent and child not in found:
                found.add(child)
                todo.append(child)
    return found


def running(pids: set[int]) -> set[int]:
    return {p for p in pids if (st := _stat(p)) is not None and st[0] != "Z"}


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    from rs_synth.registry import FORMATS

    root = tmp_path_factory.mktemp("hygiene") / "dota"
    FORMATS["dota"].write(root, 24, seed=3, size=384)  # enough work that the workers are seen running
    return root


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_convert_leaves_no_process_and_the_next_run_clears_its_staging(
    source, tmp_path, capsys, sig
):
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rs_annotate.cli",
            "convert",
            "dota",
            str(source),
            "--out",
            str(out),
            "--workers",
            "2",
            "--short-side",
            "64",
            "-q",
        ],
        start_new_session=True,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        started: set[int] = set()
        while time.monotonic() < deadline and proc.poll() is None:
            started = running(descendants(proc.pid))
            if len(started) >= 4:  # resource tracker, forkserver and two workers
                break
            time.sleep(0.02)
        assert len(started) >= 4 and proc.poll() is None, (
            f"convert ended before its workers were seen: {proc.stderr}"
        )
        os.kill(proc.pid, sig)
        err = proc.communicate(timeout=60)[1]
        deadline = time.monotonic() + 20
        while running(started) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert running(started) == set(), f"processes outlived the killed convert: {running(started)}"
    finally:
        if proc.poll() is None or running(descendants(proc.pid)):
            os.killpg(proc.pid, signal.SIGKILL)  # the session this test started, should the test fail
    staging = [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.tmp-")]
    assert not out.exists()
    if sig == signal.SIGTERM:
        assert (proc.returncode, err, staging) == (
            143,
            "rs-annotate: terminated; nothing was published\n",
            [],
        )
    else:
        assert proc.returncode == -signal.SIGKILL and len(staging) == 1
    if sig == signal.SIGTERM:
        return
    small = tmp_path / "small"
    (small / "labelTxt").mkdir(parents=True)
    (small / "images").mkdir()
    for name in ("labelTxt/P0000.txt", "images/P0000.png"):
        (small / name).write_bytes((source / name).read_bytes())
    assert main(["convert", "dota", str(small), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    assert f"{staging[0]}: removed the staging directory of an interrupted run" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "out.report.json", "small"]
