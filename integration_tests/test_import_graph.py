"""Rules for the import graph of every package (read from source, nothing executed; :mod:`import_graph`
says what counts as an import). Each test reports every violation, one ``file:line: ...`` line each.

(a) no cycles among our modules, counting imports inside functions, nor between the parts of a package (a
    subpackage taken as one part: ``readers/`` and ``m2b`` must not need each other);
(b) production code (``packages/*/src``, ``examples/*/src``) imports neither a test and demo package
    (rs-synth, outside rs-synth itself) nor test code (anything under a ``tests/`` directory);
(c) production code imports another package only through its public API, defined in one place:
    ``docs/public-api.md`` (a top-level module offers its ``__all__``; a listed module its names without
    a leading underscore);
(d) production code imports another of our packages only if its pyproject declares it: in
    ``dependencies``, or in an optional extra (not ``test``) when the import is lazy (inside a function);
(e) the layers: production code imports only the packages its row of docs/architecture.md's table allows
    (contracts -> model runtime -> tools), and never a third-party module that row forbids (the contracts
    never import torch).
"""

from __future__ import annotations

import functools

import pytest
from import_graph import PUBLIC_API, REPO, check, find_dists, is_public, public_surface


@functools.cache
def _found() -> dict[str, list[str]]:
    return check(REPO)


def _report(rule: str, header: str) -> None:
    lines = sorted(set(_found()[rule]))
    if lines:
        pytest.fail(f"{header} ({len(lines)}):\n" + "\n".join(f"  {line}" for line in lines), pytrace=False)


def test_no_import_cycles_counting_imports_inside_functions():
    _report("cycles", "import cycles (what counts: integration_tests/import_graph.py)")


def test_production_code_never_imports_test_or_demo_code():
    _report("test code", "production code importing test or demo code")


def test_packages_use_each_other_only_through_their_public_api():
    _report("public API", f"imports around the public API listed in {PUBLIC_API}")


def test_packages_declare_the_packages_they_import():
    _report("declared", "imports of our packages that the importer's pyproject does not declare")


def test_packages_import_only_what_their_layer_allows():
    _report("layers", "imports across the layers of docs/architecture.md")


def test_public_api_lists_every_package_and_only_modules_that_exist():
    surface, _ = public_surface(REPO)
    dists = {d.name: d for d in find_dists(REPO) if d.root.parent.name == "packages"}
    assert set(surface) == set(dists)
    missing = [
        p
        for name, patterns in surface.items()
        for p in patterns
        if not any(is_public(m, [p]) for m in dists[name].modules)
    ]
    assert not missing, f"{PUBLIC_API} lists modules that do not exist: {missing}"


def test_the_checker_finds_each_kind_of_violation(tmp_path):
    """The rules above on a small made-up repository with one violation of each kind (and look-alikes)."""
    files = {
        "packages/a/pyproject.toml": '[project]\nname = "rs-a"\ndependencies = ["rs-b>=1"]\n'
        '[project.optional-dependencies]\nextra = ["rs-c"]\ntest = ["rs-t"]\n',
        "packages/a/src/a/__init__.py": "from .core import f\n__all__ = ['f']\n",
        "packages/a/src/a/core.py": "from a import f\n",  # cycle through the package's __init__
        "packages/a/src/a/m.py": "from a.sub.w import y\n",
        "packages/a/src/a/sub/w.py": "y = 1\n",
        "packages/a/src/a/sub/__init__.py": "",
        "packages/a/src/a/sub/x.py": "from ..m import y\n",  # no module cycle, but sub/ and m need each other
        "packages/a/src/a/ok.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from a.ok2 import t\n"
        "import b\nfrom b import shown\nfrom b.api import g\n"
        "def later():\n    import c\n    from a.ok2 import t\n",
        "packages/a/src/a/ok2.py": "from a.ok import later\n",  # a cycle: a.ok imports a.ok2 inside a function
        "packages/a/src/a/late.py": "def f():\n    import torch\n",  # the layer table forbids torch
        "packages/a/src/a/bad.py": "from b import hidden\nfrom b.inner import g\nfrom b.api import _p\n"
        "import t.gen\nfrom conftest import fixture\nimport c\n",
        "packages/a/tests/conftest.py": "",
        "packages/b/pyproject.toml": '[project]\nname = "rs-b"\n',
        "packages/b/src/b/__init__.py": "__all__ = ['shown']\n",
        "packages/b/src/b/api.py": "",
        "packages/b/src/b/inner.py": "",
        "packages/c/pyproject.toml": '[project]\nname = "rs-c"\n',
        "packages/c/src/c/__init__.py": "",
        "packages/t/pyproject.toml": '[project]\nname = "rs-t"\n',
        "packages/t/src/t/__init__.py": "",
        "packages/t/src/t/gen.py": "",
        PUBLIC_API: "## rs-a\n| `a` | |\n## rs-b\n| `b` | |\n| `b.api` | |\n## rs-c\n| `c` | |\n"
        "## rs-t (test and demo package)\n| `t.*` | |\n",
        "docs/architecture.md": "| package | layer | may import | never imports |\n|---|---|---|---|\n"
        "| `rs-a` | tools | `rs-b`, `rs-c` | `torch` |\n| `rs-b` | contracts | - | - |\n"
        "| `rs-c` | contracts | - | - |\n| `rs-t` | tests | - | - |\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = check(tmp_path)
    assert sorted(found["cycles"]) == [
        "a -> a.core -> a",
        "a.m -> a.sub -> a.m (parts of a package)",
        "a.ok -> a.ok2 -> a.ok",
    ]
    assert [line.split(": ", 1)[1] for line in sorted(found["layers"])] == [
        "a.bad imports rs-t (t.gen): rs-a may import only rs-b, rs-c (docs/architecture.md)",
        "a.late imports torch, which rs-a never imports (docs/architecture.md)",
    ]
    assert [line.split(": ", 1)[1] for line in sorted(found["test code"])] == [
        "a.bad imports t.gen (a test and demo package)",
        "a.bad imports conftest (test code)",
    ]
    assert [line.split(" imports ")[1].split(",")[0] for line in sorted(found["public API"])] == [
        "b.hidden",
        "b.inner.g",
        "b.api._p",
    ]
    assert sorted(line.split(" imports ")[1] for line in found["declared"]) == [
        "rs-c (c): only an optional extra, but imported at load time in packages/a/pyproject.toml"
    ]
