"""rs_formats.flags: options declared once as dataclass fields become flags, help lines and the typed object."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Literal

import pytest

from rs_formats.flags import add_flags, from_args
from rs_formats.settings import ConfigError, setting

LOOKUPS = []


def _heavy_choices() -> tuple[str, ...]:
    LOOKUPS.append(1)  # stands for a lookup that imports torch
    return ("fp32", "amp")


def _bands(text: str) -> tuple[int, ...]:
    bands = tuple(int(b) for b in text.split(","))
    if len(bands) != 3:
        raise ValueError(f"--bands takes three band numbers, got {text!r}")
    return bands


@dataclass(frozen=True)
class Inner:
    center: float = setting(0.5, "middle fraction", metavar="X")
    seed: int = 0  # no help: not a flag


@dataclass(frozen=True)
class Options:
    name: str | None = setting(None, "dataset name (default: OUT's name)", metavar="NAME")
    size: int = setting(256, "shorter side", metavar="PX", renamed_from="max_side")
    fmt: str = setting("jpeg", "encoding", choices=("jpeg", "png"), renamed_values={"JPEG": "jpeg"})
    subset: Literal["classes", "objects"] = setting("classes", "subsets of")
    bands: tuple[int, ...] | None = setting(None, "bands as R,G,B", parse=_bands, metavar="R,G,B")
    precision: str = setting("fp32", "precision", choices=_heavy_choices, metavar="PRECISION")
    skip_bad: bool = setting(False, "skip bad items")
    source: str = setting("dota", "source name", metavar="NAME")
    inner: Inner = field(default_factory=Inner)
    chunksize: int = 4  # no help: a keyword of the Python API only

    def __post_init__(self) -> None:
        if self.size < 0:
            raise ValueError(f"size must be >= 0, got {self.size}")


def _parser(**kwargs) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tool")
    add_flags(p, Options, {"inner": "inner section"}, **kwargs)
    return p


def test_defaults_and_given_flags_make_the_typed_object():
    assert from_args(_parser().parse_args([]), Options) == Options()
    args = _parser().parse_args(
        [
            "--name",
            "x",
            "--size",
            "64",
            "--no-skip-bad",
            "--subset",
            "objects",
            "--bands",
            "3,2,1",
            "--center",
            "0.3",
        ]
    )
    opts = from_args(args, Options, chunksize=8)
    assert (opts.name, opts.size, opts.skip_bad, opts.subset, opts.bands, opts.chunksize) == (
        "x",
        64,
        False,
        "objects",
        (3, 2, 1),
        8,
    )
    assert opts.inner == Inner(center=0.3)


def test_help_shows_each_default_once_and_hides_non_flags():
    LOOKUPS.clear()
    text = _parser().format_help()
    assert "--size PX" in text and "(default: 256)" in text and "(default: OUT's name)" in text
    assert "--chunksize" not in text and "--seed" not in text and "--max-side" not in text
    assert "inner section:" in text and "--skip-bad, --no-skip-bad" in text
    assert not LOOKUPS  # choices that a function looks up are not looked up for --help


def test_old_spellings_warn_and_map(capsys):
    opts = from_args(_parser().parse_args(["--max-side", "32", "--fmt", "JPEG"]), Options)
    err = capsys.readouterr().err
    assert (opts.size, opts.fmt) == (32, "jpeg")
    assert "--max-side is deprecated" in err and "--fmt JPEG is deprecated" in err and "use jpeg" in err
    assert "--max-side" not in str(_parser(aliases=False).parse_args([]))
    with pytest.raises(SystemExit):
        _parser(aliases=False).parse_args(["--max-side", "32"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--bands", "1,2"], "argument --bands: --bands takes three band numbers, got '1,2'"),
        (["--precision", "fp64"], "argument --precision: invalid choice: 'fp64' (choose from fp32, amp)"),
        (["--fmt", "gif"], "argument --fmt: invalid choice"),
        (["--size", "x"], "argument --size: invalid int value"),
    ],
)
def test_bad_values_are_one_line_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        _parser().parse_args(argv)
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_a_value_the_dataclass_refuses_is_an_input_error():
    with pytest.raises(ValueError, match="size must be >= 0"):
        from_args(_parser().parse_args(["--size", "-1"]), Options)
    with pytest.raises(ConfigError, match="unknown setting"):
        from_args(_parser().parse_args([]), Options, colour="red")


def test_only_and_a_commands_own_defaults():
    p = _parser(only=("size", "source"), defaults={"source": "remotecount"})
    assert "--name" not in p.format_help() and "(default: remotecount)" in p.format_help()
    opts = from_args(p.parse_args([]), Options)
    assert (opts.source, opts.size, opts.name) == ("remotecount", 256, None)


def test_from_args_reads_only_the_flags_a_command_took():
    p = argparse.ArgumentParser()
    add_flags(p, Options, only=("size",))
    ns = p.parse_args(["--size", "64"])
    ns.name = "x"  # a flag of the same name that another dataclass of the command declared
    assert from_args(ns, Options, only=("size",)) == Options(size=64)
    assert from_args(ns, Options).name == "x"
