"""`hatch run test` (scripts/test.py) selects tests as pytest users expect, and a plain clone's run passes:
tests that need the real sample files skip with a reason pointing at a file that exists, unless CI's
RS_CLIP_REQUIRE_SHARED_DATA=1 requires them."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys

import pytest
from conftest import REPO

spec = importlib.util.spec_from_file_location("test_runner_script", REPO / "scripts" / "test.py")
runner = importlib.util.module_from_spec(spec)
spec.loader.exec_module(runner)

FORMATS = "packages/rs-formats/tests"
ANNOTATE = "packages/rs-annotate/tests"


def test_targets_go_to_their_suites_and_options_to_every_run(monkeypatch):
    monkeypatch.chdir(REPO / "packages")
    suites, extra = runner.parse(
        [
            "rs-formats/tests/test_console.py::test_os_errors_name_their_file",
            "-k",
            "packages",
            "-x",
            f"{REPO}/{ANNOTATE}/readers/test_dota.py",
            "--",
            "--durations",
            "3",
            "-q",
        ]
    )
    assert suites == {
        FORMATS: [f"{FORMATS}/test_console.py::test_os_errors_name_their_file"],
        ANNOTATE: [f"{ANNOTATE}/readers/test_dota.py"],
    }
    assert extra == ["-k", "packages", "-x", "--durations", "3", "-q"]  # "packages" is -k's value, not a path


def test_a_named_suite_runs_whole_and_no_target_means_every_suite():
    assert runner.parse([f"{FORMATS}/test_console.py", FORMATS]) == ({FORMATS: []}, [])
    assert runner.parse(["-x"]) == ({s: [] for s in runner.SUITES}, ["-x"])


@pytest.mark.parametrize(
    "target, message",
    [
        ("packages/rs-formats/tests/test_nothing.py::test_x", "test_nothing.py: no such test file or folder"),
        ("docs", "docs: not inside a test suite"),
    ],
)
def test_a_bad_target_is_one_usage_line(target, message, capsys):
    assert runner.main([target]) == 2
    err = capsys.readouterr().err
    assert err.startswith("test: error: ") and message in err and len(err.splitlines()) == 1


def _pytest(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", *args],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_real_sample_tests_skip_on_a_plain_clone_unless_required(tmp_path):
    target = f"{ANNOTATE}/readers/test_dota.py"
    plain = {"RS_CLIP_SHARED_DATA": str(tmp_path / "absent"), "RS_CLIP_REQUIRE_SHARED_DATA": "0"}
    proc = _pytest(plain, target)
    assert proc.returncode == 0, proc.stdout[-3000:]
    skips = [line for line in proc.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skips) == 4 and re.search(r"\b\d+ passed, 4 skipped\b", proc.stdout)
    for line in skips:
        pointed = re.search(r"see (\S+)\)", line).group(1)
        assert "real sample files not found at" in line and (REPO / pointed).is_file(), line

    proc = _pytest({**plain, "RS_CLIP_REQUIRE_SHARED_DATA": "1"}, target)
    assert proc.returncode == 1 and re.search(r"\b4 errors?\b", proc.stdout), proc.stdout[-3000:]
    assert "RS_CLIP_REQUIRE_SHARED_DATA=1 requires them" in proc.stdout


def test_the_runner_runs_one_test_by_its_node_id():
    proc = subprocess.run(
        [
            sys.executable,
            "scripts/test.py",
            f"{FORMATS}/test_console.py::test_os_errors_name_their_file",
            "-x",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert proc.stdout.rstrip().endswith("1 passed, 0 failed")
