"""The workspace's command-line tools, read from each package's ``[project.scripts]``: the one list that the
tests (and bench/bench_cli.py) going through every tool share, so a new tool is covered where it is
declared."""

from __future__ import annotations

from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parents[1]


def _tools() -> dict[str, str]:
    tools = {}
    for pyproject in sorted(REPO.glob("packages/*/pyproject.toml")):
        for name, target in tomllib.loads(pyproject.read_text())["project"].get("scripts", {}).items():
            tools[name] = target.split(":")[0].split(".")[0]
    return tools


#: Each tool's name -> its top-level package (``rs-annotate`` -> ``rs_annotate``).
TOOLS: dict[str, str] = _tools()
