"""The shared command-line convention: exit statuses, one-line errors, deprecated aliases, quiet logs."""

import argparse
import logging
from importlib.metadata import version

import pytest

from rs_formats import FormatError, console


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tool", parents=[console.common_flags()])
    console.add_version(p, "rs-formats")
    p.add_argument("--workers", type=int, default=1)
    console.add_deprecated_alias(p, "--num-workers", "--workers", dest="workers", type=int)
    return p


def test_input_errors_exit_2_with_one_line(capsys, tmp_path):
    def fail(args):
        raise FormatError(tmp_path / "x.txt", "bad thing", line=3)

    assert console.run("tool", _parser(), fail, []) == 2
    err = capsys.readouterr().err
    assert err == f"tool: error: {tmp_path / 'x.txt'}:3: bad thing\n"


def test_os_errors_name_their_file(capsys, tmp_path):
    def fail(args):
        open(tmp_path / "missing.json")

    assert console.run("tool", _parser(), fail, []) == 2
    assert capsys.readouterr().err == f"tool: error: {tmp_path / 'missing.json'}: No such file or directory\n"


def test_success_failure_and_usage_statuses(capsys):
    assert console.run("tool", _parser(), lambda a: None, []) == 0
    assert console.run("tool", _parser(), lambda a: 1, []) == 1
    with pytest.raises(SystemExit) as exc:
        console.run("tool", _parser(), lambda a: 0, ["--nope"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        _parser().parse_args(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out == f"tool {version('rs-formats')}\n"


def test_deprecated_alias_sets_the_new_dest_and_warns(capsys):
    args = _parser().parse_args(["--num-workers", "4"])
    assert args.workers == 4
    assert "--num-workers is deprecated" in capsys.readouterr().err
    assert "--num-workers" not in _parser().format_help()


def test_quiet_hides_info_and_verbose_shows_debug(capsys):
    log = logging.getLogger("rs_formats.test")
    console.setup("tool", _parser().parse_args(["-q"]))
    log.info("hidden")
    log.warning("shown")
    assert capsys.readouterr().err == "tool: warning: shown\n"
    console.setup("tool", _parser().parse_args(["-vv"]))
    log.debug("detail")
    assert capsys.readouterr().err == "tool: detail\n"
    console.setup("tool", _parser().parse_args([]))
    log.info("done")
    assert capsys.readouterr().err == "tool: done\n"


def test_progress_bars_only_on_a_terminal(monkeypatch):
    console.setup("tool", _parser().parse_args([]))
    monkeypatch.setattr("sys.stderr.isatty", lambda: False, raising=False)
    assert not console.progress_enabled()
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    assert console.progress_enabled() and not console.progress_enabled(False)
    console.setup("tool", _parser().parse_args(["--no-progress"]))
    assert not console.progress_enabled()


def test_format_errors_survive_pickling_with_subclass_state():
    import pickle

    class Tagged(FormatError):
        def __init__(self, path, message, line=None, kind="malformed"):
            super().__init__(path, message, line)
            self.kind = kind

    globals()["Tagged"] = Tagged  # picklable by reference, as a module-level class is
    Tagged.__qualname__ = "Tagged"
    for exc in (FormatError("a/b.txt", "bad", line=2), Tagged("c.txt", "worse", kind="bad-image")):
        again = pickle.loads(pickle.dumps(exc))
        assert type(again) is type(exc) and str(again) == str(exc)
        assert (again.path, again.reason, again.line) == (exc.path, exc.reason, exc.line)
    assert pickle.loads(pickle.dumps(Tagged("c.txt", "x", kind="k"))).kind == "k"


def test_sigterm_unwinds_like_ctrl_c_and_exits_143(capsys):
    import os
    import signal
    import time

    cleaned = []

    def long_job(args):
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(10)
        finally:
            cleaned.append(True)  # what a job's ``finally`` (pool shutdown, staging removal) gets to do

    before = signal.getsignal(signal.SIGTERM)
    assert console.run("tool", _parser(), long_job, []) == 143
    assert cleaned == [True] and signal.getsignal(signal.SIGTERM) is before
    assert capsys.readouterr().err == "tool: terminated; nothing was published\n"


def test_an_error_is_always_one_line(capsys, tmp_path):
    def fail(args):
        raise FormatError(tmp_path / "x.json", "not valid:\n  Traceback-looking detail\n")

    assert console.run("tool", _parser(), fail, []) == 2
    assert (
        capsys.readouterr().err
        == f"tool: error: {tmp_path / 'x.json'}: not valid: Traceback-looking detail\n"
    )
