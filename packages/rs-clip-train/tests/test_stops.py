"""Training always ends: on data with no usable row (after a bounded number of rows, one line naming the
dataset and what was skipped) and on SIGTERM (within seconds, nothing half-written). One plain process
(``--launcher none``), as a user without Ray or torchrun runs it."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import write_caption_dataset

from rs_clip_train.data import MAX_UNUSABLE_IN_A_ROW

HTML = b"<!DOCTYPE html><html><body>404 Not Found</body></html>"


def _fit(data: Path, out: Path, *more: str) -> list[str]:
    args = ["fit", "--launcher", "none", "--preset", "tiny", "--batch-size", "8", "--log-every", "1"]
    return [sys.executable, "-m", "rs_clip_train", *args, "--data", str(data), "--out", str(out), *more]


def test_a_dataset_without_a_usable_row_stops_with_one_line(tmp_path):
    n = 16
    spoil = {i: {"image": HTML} if i % 2 else {"captions": []} for i in range(n)}
    data = write_caption_dataset(tmp_path / "unusable", n=n, row_group_rows=8, name="unusable", spoil=spoil)
    proc = subprocess.run(
        _fit(data, tmp_path / "run", "--steps", "2", "--loader-workers", "1", "-q"),
        capture_output=True,
        text=True,
        timeout=240,
    )
    errors = [line for line in proc.stderr.splitlines() if "error" in line]
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert len(errors) == 1, proc.stderr[-3000:]
    found = re.search(
        rf"{re.escape(str(data))}: {MAX_UNUSABLE_IN_A_ROW} rows in a row are unusable \((.*?)\);", errors[0]
    )
    assert found, errors[0]
    counts = {
        why: int(n)
        for n, why in re.findall(r"(\d+) (without a caption|whose image does not decode)", found[1])
    }
    assert set(counts) == {"without a caption", "whose image does not decode"}
    assert sum(counts.values()) == MAX_UNUSABLE_IN_A_ROW
    assert not (tmp_path / "run" / "final").exists()


def test_sigterm_ends_training_within_seconds_with_nothing_half_written(tmp_path):
    data = write_caption_dataset(tmp_path / "toy", n=32, row_group_rows=8)
    run = tmp_path / "run"
    proc = subprocess.Popen(
        _fit(data, run, "--steps", "100000", "--checkpoint-every", "1", "--loader-workers", "1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not list((run / "checkpoints").glob("step-*")) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            time.sleep(0.2)
        assert list((run / "checkpoints").glob("step-*")), "training never wrote a checkpoint"
        proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        proc.kill()
    assert took < 10, f"{took:.1f} s after SIGTERM"
    assert proc.returncode == 128 + signal.SIGTERM, err[-3000:]
    assert "terminated" in err.splitlines()[-1] and "Traceback" not in err, err[-3000:]
    # Every checkpoint there is complete (its manifest lists its files); no staging is left.
    assert not [p for p in run.rglob(".*") if ".tmp" in p.name]
    for ckpt in (run / "checkpoints").glob("step-*"):
        manifest = json.loads((ckpt / "manifest.json").read_text())
        assert all((ckpt / name).is_file() for name in manifest["sha256"]), ckpt
