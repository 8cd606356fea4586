"""The package's shape: no import cycles, one error family, versions from the package metadata."""

import ast
import pickle
from importlib.metadata import version
from pathlib import Path

import pytest

import rs_annotate
from rs_annotate import BadInput
from rs_formats import FormatError

PACKAGE = Path(rs_annotate.__file__).parent


def _module_name(path: Path) -> str:
    parts = ["rs_annotate", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> modules of the package it imports, anywhere in its body (functions included).

    ``from pkg import name`` counts as importing ``pkg.name`` when that is a module, else ``pkg``.
    """
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = graph.setdefault(name, set())
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                edges.update(a.name for a in node.names if a.name in modules)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    target = f"{base}.{node.module}" if node.module else base
                else:
                    target = node.module or ""
                if target not in modules:
                    continue
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    edges.add(sub if sub in modules else target)
        edges.discard(name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_import_graph_has_no_cycles():
    graph = import_graph()
    assert "rs_annotate.types" in graph["rs_annotate.m2b"]  # the graph sees relative imports
    assert "rs_annotate.readers.base" in graph["rs_annotate.readers.dota"]
    assert cycles(graph) == []
    # Readers and rules as units: the rules never reach into the readers package.
    units = {}
    for module, targets in graph.items():
        unit = "rs_annotate.readers" if module.startswith("rs_annotate.readers") else module
        units.setdefault(unit, set()).update(
            "rs_annotate.readers" if t.startswith("rs_annotate.readers") else t for t in targets
        )
    for unit in units:
        units[unit].discard(unit)
    assert cycles(units) == []


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_shares_a_name_with_a_verb():
    for verb in rs_annotate.__all__:
        assert not (PACKAGE / f"{verb}.py").exists(), verb
    assert callable(rs_annotate.dedup) and callable(rs_annotate.show)


def test_bad_input_is_a_format_error_that_survives_pickling(tmp_path):
    err = BadInput(tmp_path / "labels.txt", "expected 10 fields, got 3", 7, kind="missing-image")
    assert isinstance(err, FormatError) and isinstance(err, ValueError)
    assert str(err) == f"{tmp_path / 'labels.txt'}:7: expected 10 fields, got 3"
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is BadInput and str(back) == str(err)
    assert (back.path, back.line, back.message, back.kind) == (err.path, 7, err.message, "missing-image")
    plain = pickle.loads(pickle.dumps(BadInput("x.xml", "no objects")))
    assert str(plain) == "x.xml: no objects" and plain.line is None and plain.kind == "malformed"
    with pytest.raises(FormatError, match=r"x\.xml: no objects"):
        raise plain


def test_version_comes_from_the_package_metadata():
    assert rs_annotate.__version__ == version("rs-annotate")
    from rs_annotate.version import GENERATOR

    assert GENERATOR == f"rs-annotate {version('rs-annotate')}"
