"""A tool answers ``--help`` and ``--version`` without importing its commands' heavy libraries.

Start-up time is what users feel (bench/bench_cli.py measures it); what keeps it short is structural and is
checked here without timing anything: in a fresh interpreter, building each tool's parser and printing its
help, each command's help and the version must leave pyarrow, numpy, PIL, torch and the rest out of ``sys.modules``, while the
tool's public API still imports them on first use.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from cli_tools import TOOLS

CLIS = TOOLS
HEAVY = (
    "pyarrow",
    "numpy",
    "PIL",
    "torch",
    "open_clip",
    "ray",
    "deepspeed",
    "matplotlib",
    "pandas",
    "cv2",
    "usearch",
    "fastapi",
    "uvicorn",
)

_PROBE = """
import argparse, contextlib, importlib, io, json, sys
cli = importlib.import_module("{package}.cli")
parser = (getattr(cli, "build_parser", None) or cli.parser)()
commands = [c for a in parser._actions if isinstance(a, argparse._SubParsersAction) for c in a.choices]
for argv in (["--help"], ["--version"], *([c, "--help"] for c in commands)):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        cli.main(argv)
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def _loaded(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.parametrize("prog", list(CLIS))
def test_help_and_version_import_no_heavy_library(prog):
    assert _loaded(_PROBE.format(package=CLIS[prog], heavy=HEAVY)) == []


def test_public_names_still_import_on_first_use():
    code = (
        "import json, sys, rs_formats, rs_count\n"
        "before = 'pyarrow' in sys.modules\n"
        "assert rs_formats.open_dataset.__module__.startswith('rs_formats.dataset')\n"
        "import rs_count.build\n"  # the submodule of the same name does not take the function's place
        "assert callable(rs_count.build) and rs_count.build.__module__ == 'rs_count.build'\n"
        "print(json.dumps([before, 'pyarrow' in sys.modules]))"
    )
    assert _loaded(code) == [False, True]
