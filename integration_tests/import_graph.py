"""The import graph of our packages, read from source with ``ast`` (nothing is imported or executed), and
the rules :mod:`test_import_graph` holds it to (see that module for the rules).

What counts:

* **Every import that runs** makes cycles: at module level (inside ``try``/``if`` too) and inside
  functions, but not under ``if TYPE_CHECKING:``. A function-level import cannot break loading, but a
  cycle it closes is a cycle all the same: two modules that need each other are one concept split in two,
  or a thing in the wrong place. Importing ``a.b.c`` needs ``a.b.c`` and each package on the way
  (``a.b``) that is not already an ancestor of the importer; ``from a import name`` where ``name`` is not
  a submodule needs ``a`` itself (its ``__init__`` must have run that far), ancestor or not.
* **Every import** (also under ``TYPE_CHECKING``) counts for the other rules: a dependency is a
  dependency whenever it runs.
* Attribute chains (``import a`` then ``a.b.c.x``) are not followed.

The layers (which package may import which, and what the contracts never import) are one table in
docs/architecture.md (:func:`layer_table`).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parents[1]
PUBLIC_API = "docs/public-api.md"
ARCHITECTURE = "docs/architecture.md"


@dataclass(frozen=True)
class Import:
    importer: str
    path: Path
    line: int
    target: str  # the module imported
    name: str | None  # the attribute taken from it (``from target import name``), if not a submodule
    load_time: bool
    runs: bool = True  # False under ``if TYPE_CHECKING:``


@dataclass
class Dist:
    name: str  # distribution name, e.g. rs-formats
    root: Path
    modules: dict[str, Path]  # module name -> file
    dependencies: set[str]
    extras: dict[str, set[str]]

    @property
    def top(self) -> set[str]:
        return {m for m in self.modules if "." not in m}


def _norm(requirement: str) -> str:
    return re.match(r"[A-Za-z0-9._-]+", requirement).group(0).lower().replace("_", "-")


def find_dists(repo: Path) -> list[Dist]:
    dists = []
    for pyproject in sorted(
        [*repo.glob("packages/*/pyproject.toml"), *repo.glob("examples/*/pyproject.toml")]
    ):
        project = tomllib.loads(pyproject.read_text())["project"]
        src = pyproject.parent / "src"
        modules = {}
        for f in sorted(src.rglob("*.py")):
            parts = f.relative_to(src).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = f
        dists.append(
            Dist(
                project["name"],
                pyproject.parent,
                modules,
                {_norm(r) for r in project.get("dependencies", [])},
                {k: {_norm(r) for r in v} for k, v in project.get("optional-dependencies", {}).items()},
            )
        )
    return dists


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(module: str, path: Path, known: set[str]) -> list[Import]:
    """Every import statement of a module, resolved against our module names (``known``)."""
    is_package = path.name == "__init__.py"
    found: list[Import] = []

    def visit(node: ast.AST, load_time: bool, runs: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend(Import(module, path, node.lineno, a.name, None, load_time, runs) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for a in node.names:
                sub = f"{base}.{a.name}"
                if sub in known:
                    found.append(Import(module, path, node.lineno, sub, None, load_time, runs))
                else:
                    found.append(Import(module, path, node.lineno, base, a.name, load_time, runs))
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, False, False)
            for child in node.orelse:
                visit(child, load_time, runs)
        else:
            lazy = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            for child in ast.iter_child_nodes(node):
                visit(child, load_time and not lazy, runs)

    visit(ast.parse(path.read_text(), str(path)), True, True)
    return found


def _ancestors(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def import_graph(imports: list[Import], known: set[str]) -> dict[str, set[str]]:
    """Module -> modules it needs, from every import among our own modules that runs (inside functions
    too; not under ``TYPE_CHECKING``)."""
    graph: dict[str, set[str]] = {m: set() for m in known}
    for imp in imports:
        if not imp.runs or imp.target not in known or imp.target == imp.importer:
            continue
        own = {imp.importer, *_ancestors(imp.importer)}
        needed = [m for m in [*_ancestors(imp.target), imp.target] if m not in own]
        if imp.name is not None:  # an attribute of the target: its __init__ must have run that far
            needed.append(imp.target)
        graph[imp.importer].update(needed)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(comp)

    for v in sorted(graph):
        if v not in index:
            connect(v)
    result = []
    for comp in components:
        start = min(comp)
        path, seen = [start], {start}
        while True:  # walk inside the component until a module repeats: that closes a cycle
            nxt = min(w for w in graph[path[-1]] if w in comp)
            if nxt in seen:
                result.append(path[path.index(nxt) :] + [nxt])
                break
            path.append(nxt)
            seen.add(nxt)
    return sorted(result)


def public_surface(repo: Path) -> tuple[dict[str, list[str]], set[str]]:
    """docs/public-api.md -> ({distribution: [public module patterns]}, {test and demo distributions})."""
    surface: dict[str, list[str]] = {}
    test_only: set[str] = set()
    dist = None
    for line in (repo / PUBLIC_API).read_text().splitlines():
        if m := re.match(r"## (rs-[a-z-]+)(.*)", line):
            dist = m.group(1)
            surface[dist] = []
            if "test and demo" in m.group(2):
                test_only.add(dist)
        elif dist and (m := re.match(r"\| `([a-z_][a-z0-9_.]*(?:\.\*)?)` \|", line)):
            surface[dist].append(m.group(1))
    return surface, test_only


def is_public(module: str, patterns: list[str]) -> bool:
    if any(p.startswith("_") for p in module.split(".")):
        return False
    return any(module == p or (p.endswith(".*") and module.startswith(p[:-1])) for p in patterns)


def _all_of(path: Path) -> set[str] | None:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return set(ast.literal_eval(node.value))
    return None


def layer_table(repo: Path) -> dict[str, tuple[set[str], set[str]]]:
    """docs/architecture.md's table -> {distribution: (our packages it may import, third-party top-level
    modules it must not import)}: rows ``| `rs-x` | layer | `rs-a`, `rs-b` | `torch` |`` ("-" for none)."""
    table = {}
    for line in (repo / ARCHITECTURE).read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"`[a-z][a-z0-9-]*`", cells[0]):
            table[cells[0].strip("`")] = (
                set(re.findall(r"`([^`]+)`", cells[2])),
                set(re.findall(r"`([^`]+)`", cells[3])),
            )
    return table


def check(repo: Path) -> dict[str, list[str]]:
    """Every violation of (a)-(e) in the repository at ``repo``, as printable lines, by rule."""
    dists = find_dists(repo)
    owner = {m: d for d in dists for m in d.modules}
    known = set(owner)
    surface, test_only = public_surface(repo)
    test_dirs = [*repo.glob("packages/*/tests"), *repo.glob("examples/*/tests"), repo / "integration_tests"]
    test_names = {"tests", "integration_tests"} | {
        p.stem for t in test_dirs if t.is_dir() for p in t.iterdir() if p.suffix == ".py" or p.is_dir()
    }
    imports = [i for d in dists for m, f in d.modules.items() for i in imports_of(m, f, known)]
    where = lambda i: f"{i.path.relative_to(repo)}:{i.line}: {i.importer}"  # noqa: E731
    found: dict[str, list[str]] = {
        "cycles": [],
        "test code": [],
        "public API": [],
        "declared": [],
        "layers": [],
    }
    layers = layer_table(repo)
    found["layers"] += [
        f"{d.name}: no row in {ARCHITECTURE}'s layer table" for d in dists if d.name not in layers
    ]
    graph = import_graph(imports, known)
    module_cycles = cycles(graph)
    found["cycles"] += [" -> ".join(c) for c in module_cycles]
    # The same between the parts of each package, a subpackage taken as one part (readers/ as a whole).
    part = lambda m: ".".join(m.split(".")[:2])  # noqa: E731
    parts: dict[str, set[str]] = {part(m): set() for m in known if "." in m}
    for m, needed in graph.items():
        if "." in m:
            parts[part(m)].update(part(n) for n in needed if "." in n and part(n) != part(m))
    seen = [{part(m) for m in c} for c in module_cycles]
    found["cycles"] += [" -> ".join(c) + " (parts of a package)" for c in cycles(parts) if set(c) not in seen]
    for i in imports:
        src, target = owner[i.importer], owner.get(i.target)
        top = i.target.split(".")[0]
        may, never = layers.get(src.name, (set(), set()))
        if target is not None and target is not src and target.name not in may and src.name in layers:
            found["layers"].append(
                f"{where(i)} imports {target.name} ({i.target}): {src.name} may import only "
                f"{', '.join(sorted(may)) or 'none of our packages'} ({ARCHITECTURE})"
            )
        if top in never:
            found["layers"].append(
                f"{where(i)} imports {top}, which {src.name} never imports ({ARCHITECTURE})"
            )
        if top in test_names or (target and target.name in test_only and target is not src):
            found["test code"].append(
                f"{where(i)} imports {i.target} ({'test code' if top in test_names else 'a test and demo package'})"
            )
            continue
        if target is None or target is src:
            continue
        patterns = surface.get(target.name, [])
        module_ok = is_public(i.target, patterns)
        name_ok = i.name is None or not i.name.startswith("_")
        if module_ok and i.name is not None and i.target in target.top:
            exported = _all_of(target.modules[i.target])
            name_ok = name_ok and (exported is None or i.name in exported)
        if not (module_ok and name_ok):
            what = i.target + (f".{i.name}" if i.name else "")
            found["public API"].append(
                f"{where(i)} imports {what}, which is not public API of {target.name} "
                f"(public: {', '.join(patterns) or 'nothing listed'}; see {PUBLIC_API})"
            )
        extras = [k for k, v in src.extras.items() if k != "test" and target.name in v]
        if target.name not in src.dependencies and not (extras and not i.load_time):
            why = "only an optional extra, but imported at load time" if extras else "not declared"
            found["declared"].append(
                f"{where(i)} imports {target.name} ({i.target}): {why} in "
                f"{(src.root / 'pyproject.toml').relative_to(repo)}"
            )
    return found
