"""The six command lines follow one convention (``rs_formats.console``; README, "Command-line convention").

* ``PROG --version`` prints ``PROG VERSION``, the installed version of the distribution of that name;
* every command's ``--help`` (each subcommand's, or the tool's own where it has none) offers ``-v``,
  ``-q`` and ``--no-progress``;
* a missing input path exits with status 2 and exactly one line on stderr, ``PROG: error: ...``, that
  names the path.

Each tool runs in-process through its console-script entry point, ``main(argv)``: one import per tool,
no process start per check. Its commands are read from the parser ``main`` builds.
"""

from __future__ import annotations

import argparse
import re
from importlib.metadata import entry_points, version

import pytest
from cli_tools import TOOLS

CLIS = tuple(TOOLS)
CONSOLE_FLAGS = ("-v", "-q", "--no-progress")


def entry(prog: str):
    (ep,) = [e for e in entry_points(group="console_scripts") if e.name == prog]
    return ep.load()


def call(prog: str, argv: list[str], capsys) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of ``PROG ARGV``, whether ``main`` returns or exits."""
    try:
        code = entry(prog)(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return (code if isinstance(code, int) else 0 if code is None else 1), out, err


class _Parsed(BaseException):
    def __init__(self, parser: argparse.ArgumentParser):
        self.parser = parser


def parser_of(prog: str, monkeypatch) -> argparse.ArgumentParser:
    """The top-level parser ``main`` builds, caught when it starts parsing (every parse goes through
    ``parse_known_args``)."""

    def catch(self, *args, **kwargs):
        raise _Parsed(self)

    with monkeypatch.context() as m:
        m.setattr(argparse.ArgumentParser, "parse_known_args", catch)
        try:
            entry(prog)([])
        except _Parsed as parsed:
            return parsed.parser
    raise AssertionError(f"{prog}: main() never parsed its arguments")


def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every leaf command, as the words that select it (``()`` for a tool without subcommands)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [path]
    found = []
    for action in subs:
        seen = set()
        for name, sub in action.choices.items():
            if id(sub) not in seen:  # aliases share one parser
                seen.add(id(sub))
                found += commands(sub, (*path, name))
    return found


@pytest.mark.parametrize("prog", CLIS)
def test_version_is_the_installed_one(prog, capsys):
    code, out, _ = call(prog, ["--version"], capsys)
    assert (code, out) == (0, f"{prog} {version(prog)}\n")


@pytest.mark.parametrize("prog", CLIS)
def test_every_command_offers_the_console_flags(prog, capsys, monkeypatch):
    lacking = []
    for cmd in commands(parser_of(prog, monkeypatch)):
        code, out, _ = call(prog, [*cmd, "--help"], capsys)
        assert code == 0, (prog, cmd)
        missing = [f for f in CONSOLE_FLAGS if not re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", out)]
        if missing:
            lacking.append(f"{' '.join((prog, *cmd))} --help lacks {', '.join(missing)}")
    if lacking:
        pytest.fail("\n".join(lacking), pytrace=False)


# A command of each tool that reads an input path (rs-synth reads none: it only writes).
MISSING_INPUT = {
    "rs-formats": lambda missing, tmp: ["verify", missing],
    "rs-annotate": lambda missing, tmp: ["validate", missing],
    "rs-clip-train": lambda missing, tmp: ["config", "--config", missing],
    "rs-clip-eval": lambda missing, tmp: [
        "retrieval",
        "--model",
        "RS-Tiny",
        "--data",
        missing,
        "--out",
        tmp / "o",
    ],
    "rs-count": lambda missing, tmp: [
        "build",
        "--labels",
        missing,
        "--images",
        tmp / "i",
        "--out",
        tmp / "o",
    ],
}


@pytest.mark.parametrize("prog", sorted(MISSING_INPUT))
def test_missing_input_is_one_error_line_and_status_2(prog, tmp_path, capsys):
    missing = tmp_path / "no-such-input"
    argv = [str(a) for a in MISSING_INPUT[prog](missing, tmp_path)]
    code, _, err = call(prog, argv, capsys)
    lines = err.splitlines()
    assert code == 2 and len(lines) == 1, f"{prog} {' '.join(argv)}: status {code}, stderr:\n{err}"
    assert lines[0].startswith(f"{prog}: error: ") and str(missing) in lines[0], lines[0]
