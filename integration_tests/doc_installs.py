"""The documentation's install commands. None of the packages is on a package index, so the README's
Install section is the one list of how to install each use (test_isolation.py installs them in fresh
venvs); every other ``pip install`` in the documentation must be one of them, and each must name every
rs-clip package its packages need (pip cannot look one up by name).
"""

from __future__ import annotations

import re

import tomllib
from doc_commands import REPO, Command, doc_commands, expand
from import_graph import find_dists

WORKSPACE = {d.name: d.root for d in find_dists(REPO)}
_TARGET = re.compile(r"(?:^|/|#subdirectory=)(?:packages|examples)/([\w-]+)(?:\[([\w,]+)\])?")


def install_words(cmd: Command) -> list[str]:
    """A ``pip install`` command's words, the block's variables expanded (as bash would, without a glob)."""
    return expand(cmd, cmd.text, REPO)


def readme_installs() -> list[Command]:
    """The README's install commands: the one list of how to install each use (test_isolation.py runs them)."""
    return [
        c for c in doc_commands("README.md") if c.section == "Install" and c.text.startswith("pip install")
    ]


def named_packages(words: list[str]) -> dict[str, set[str]]:
    """The rs-clip packages a ``pip install`` names (from a folder or a git URL's subdirectory) -> extras."""
    named: dict[str, set[str]] = {}
    for word in words:
        m = _TARGET.search(word)
        if m:
            (name,) = [n for n, d in WORKSPACE.items() if d.name == m.group(1)]
            named.setdefault(name, set()).update(filter(None, (m.group(2) or "").split(",")))
    return named


def missing_packages(words: list[str]) -> set[str]:
    """rs-clip packages the installed ones need (dependencies and the extras asked for) that the command does
    not name: none of them is on a package index, so pip could not find them by name."""
    from packaging.requirements import Requirement

    named = named_packages(words)

    missing, todo, seen = set(), list(named.items()), set()
    while todo:
        name, extras = todo.pop()
        if (name, frozenset(extras)) in seen:
            continue
        seen.add((name, frozenset(extras)))
        project = tomllib.loads((WORKSPACE[name] / "pyproject.toml").read_text())["project"]
        reqs = project.get("dependencies", []) + [
            r for e in extras for r in project["optional-dependencies"][e]
        ]
        for req in map(Requirement, reqs):
            if req.name in WORKSPACE and req.name != name:
                if req.name not in named:
                    missing.add(req.name)
                todo.append((req.name, set(req.extras)))
    return missing


def check_install(cmd: Command) -> None:
    words = install_words(cmd)
    assert words in [install_words(c) for c in readme_installs()], (
        f"{cmd.where()}: not one of the README's install commands (its Install section): {cmd.text}"
    )
    assert not missing_packages(words), f"{cmd.where()}: needs {missing_packages(words)} named too"
