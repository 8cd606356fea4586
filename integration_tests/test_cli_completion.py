"""Shell completion: ``TOOL --print-completion SHELL`` (``rs_formats.console.add_completion``, shtab).

The bash script of each tool is loaded into a real bash, which is then asked to complete a partial command
name and a partial flag, as a TAB would; deprecated spellings stay out of the completions."""

from __future__ import annotations

import subprocess

import pytest
from cli_tools import TOOLS
from test_cli_convention import call

#: tool -> (words typed, the completion expected among the answers), per case.
CASES = {
    "rs-formats": [(["ver"], "verify"), (["info", "--ver"], "--verbose")],
    "rs-clip-models": [(["zo"], "zoo"), (["zoo", "--mark"], "--markdown")],
    "rs-synth": [(["--pla"], "--plant"), (["dota", "--over"], "--overwrite")],
    "rs-annotate": [(["con"], "convert"), (["convert", "--short"], "--short-side")],
    "rs-clip-train": [(["fi"], "fit"), (["fit", "--crop"], "--crop-scale")],
    "rs-clip-eval": [(["retr"], "retrieval"), (["retrieval", "--loader"], "--loader-workers")],
    "rs-count": [(["bui"], "build"), (["build", "--min-c"], "--min-count")],
    "rs-clip-search": [(["ind"], "index"), (["index", "--exact"], "--exact-below")],
}

_PROBE = """
source "$1"
shift
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
"$(complete -p "$1" | sed 's/.* -F \\([^ ]*\\) .*/\\1/')"
printf '%s\\n' "${COMPREPLY[@]}"
"""


def _complete(script, words: list[str]) -> list[str]:
    out = subprocess.run(
        ["bash", "-c", _PROBE, "probe", str(script), *words], capture_output=True, text=True, check=True
    )
    return out.stdout.split()


def test_every_tool_has_completion_cases():
    assert sorted(CASES) == sorted(TOOLS)


@pytest.mark.parametrize("prog", list(CASES))
def test_bash_completes_commands_and_flags(prog, capsys, tmp_path):
    code, script, err = call(prog, ["--print-completion", "bash"], capsys)
    assert code == 0 and not err
    path = tmp_path / prog
    path.write_text(script)
    for words, expected in CASES[prog]:
        assert expected in _complete(path, [prog, *words]), (prog, words)


def test_hidden_aliases_are_not_offered_and_other_shells_are_written(capsys, tmp_path):
    _, script, _ = call("rs-annotate", ["--print-completion", "bash"], capsys)
    path = tmp_path / "rs-annotate"
    path.write_text(script)
    assert _complete(path, ["rs-annotate", "convert", "--max"]) == []  # --max-side: deprecated, hidden
    assert "--short-side" in _complete(path, ["rs-annotate", "convert", "--sh"])
    _, zsh, _ = call("rs-count", ["--print-completion", "zsh"], capsys)
    assert zsh.startswith("#compdef rs-count") and "build" in zsh and "--min-count" in zsh
    code, _, err = call("rs-count", ["--print-completion", "fish"], capsys)
    assert code == 2 and "invalid choice" in err
