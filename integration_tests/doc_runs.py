"""Running the documentation's commands here: what differs from a user's machine, in one table each.

Each document's commands run in order, in a folder of their own standing for both ``/`` and the current
directory (``/data/rs/train`` and ``runs/vitb32`` both land inside it), on rs-synth stand-ins of what the
document presumes is there (:data:`GIVEN`). What differs from a user's machine is :data:`SUBSTITUTIONS`
(sizes, released weights, probe lengths); what cannot run on a 2-core CI machine is :data:`NOT_RUN`, with
the reason (the commands of our tools among those are still parsed by their own parser). One tiny
training run (:data:`TRAINS`) serves every ``rs-clip-train fit``: the others are checked (flags,
settings, datasets) and their run directory is that run. Tools run in this process, through their
console scripts' entry points.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import time
from fnmatch import fnmatch
from importlib.metadata import entry_points
from pathlib import Path

import tomllib
from cli_tools import TOOLS
from doc_commands import DOCS, REPO, Block, Command, blocks, doc_commands, expand
from doc_installs import check_install
from doc_stand_ins import RECIPE_SOURCES, SCENE_SETS, StandIns

#: What differs from a user's machine: (pattern, replacement, why), applied in order to every command's text
#: before bash expands it. ``{world}`` is the document's own folder, ``{shared}`` the stand-ins'.
SUBSTITUTIONS = [
    (
        r"(?<![\w.])/weights/([\w.-]+)\.pt\b",
        r"RS-Tiny:{shared}/weights/\1.safetensors",
        "released weights: a seeded RS-Tiny saved under the file's name (the real files are 150 MB to 1.7 GB)",
    ),
    (
        r"(?<![\w.:/])/(data|runs|tmp|shared|scratch)/",
        r"{world}/\1/",
        "absolute paths: inside the document's folder",
    ),
    (r"<head-ip>|\bHEAD(?=:)", "127.0.0.1", "the head node's address"),
    (r"--loader-workers \d+", "--loader-workers 0", "no DataLoader processes on 2 cores"),
    (r"(rs-synth \w+ .*)--n \d+", r"\1--n 10", "tiny sizes"),
    (r"(rs-synth \w+ .*)--size \d+", r"\1--size 96", "tiny sizes"),
    (
        r"^(rs-clip-eval run .*)$",
        r"\1 --epochs 5 --search-trials 1 --tsne-points 40",
        "probes: 5 epochs and one search trial, not the paper's 1000 and five",
    ),
    (
        r"^(rs-annotate convert (?!.*--workers).*)$",
        r"\1 --workers 1",
        "one conversion process for a few images (the rows are the same for any number: rs-annotate's tests)",
    ),
]
#: The one fit that trains (the paper presets would take hours): tiny, two steps, in this process.
TRAINS = ("packages/rs-clip-train/README.md", "rs-clip-train fit --preset tiny ")
FIT_RUN = [
    (r"--preset \S+", "--preset tiny"),
    (r"--(steps|epochs) \S+", "--steps 2"),
    (r"$", " --launcher none --no-progress"),
]

#: Commands that do not run here: (document, pattern, why). Those of our tools are parsed all the same.
NOT_RUN = [
    ("*", r"^pip install hatch$", "the development set-up: .ci/run installs hatch itself"),
    (
        "README.md",
        r"^hatch run (demo|test)$",
        "the README's two commands: CI runs `hatch run test`; test_end_to_end.py runs the demo",
    ),
    (
        "examples/*",
        r"^(python -m venv|source) \.venv-audit|^pip install .*\./examples/",
        "the example's own install: test_downstream_example.py runs it in a fresh venv",
    ),
    ("*", r"^ray start ", "starts a node of a multi-node Ray cluster"),
    ("*", r"^ray job submit .* -- ", "submits the command after -- to a running Ray cluster"),
    ("*", r"^torchrun ", "one process per GPU of a GPU node"),
    (
        "*",
        r"--engine ray",
        "Ray Data on a cluster; the same command on the local engine gives the same rows "
        "(the packages' Ray tests check)",
    ),
    (
        "*",
        r"--storage s3://",
        "needs an S3-compatible store (rs-clip-train's test_storage.py runs this path "
        "against moto's S3 server)",
    ),
    (
        "README.md",
        r"s3://bucket/",
        "needs an S3-compatible store and a Ray cluster: test_storage_chain.py runs this chain against "
        "moto's S3 server on a two-node local Ray",
    ),
    (
        "*",
        r"^rs-clip-search serve ",
        "a server runs until it is stopped (rs-clip-search's test_browser.py serves an index to headless Chromium)",
    ),
    (
        "docs/reproduce.md",
        r"^rs-clip-eval search .*remoteclip-train-vitb32",
        "reads the embeddings the cluster command above writes (rs-clip-eval's README runs search locally)",
    ),
]
EXAMPLES = {
    tomllib.loads(p.read_text())["project"]["scripts"].popitem()[0]: p.parent
    for p in REPO.glob("examples/*/pyproject.toml")
}


def not_run(cmd: Command) -> str | None:
    for doc, pattern, why in NOT_RUN:
        if fnmatch(cmd.doc, doc) and re.search(pattern, cmd.text):
            return why
    return None


def tool_argv(words: list[str]) -> tuple[str, list[str]] | None:
    """(tool, its arguments) when ``words`` run one of our tools, directly, with ``python -m`` or inside
    ``ray job submit ... --`` / ``torchrun ... -m``; else None."""
    if "--" in words:
        words = words[words.index("--") + 1 :]
    if words[0] in ("python", "torchrun") and "-m" in words:
        module = words[words.index("-m") + 1]
        words = [module.replace("_", "-"), *words[words.index("-m") + 2 :]]
    return (words[0], words[1:]) if words[0] in TOOLS or words[0] in EXAMPLES else None


def script(tool: str) -> tuple[str, str]:
    """(module, function) of a tool's console script: installed, or an example's, from its pyproject."""
    if tool in EXAMPLES:
        sys.path.insert(0, str(EXAMPLES[tool] / "src"))  # what `pip install ./examples/...` would give
        value = tomllib.loads((EXAMPLES[tool] / "pyproject.toml").read_text())["project"]["scripts"][tool]
    else:
        (value,) = [e.value for e in entry_points(group="console_scripts", name=tool)]
    module, func = value.split(":")
    return module, func


def parse(tool: str, args: list[str]):
    """``args`` as ``tool``'s own parser reads them; a usage error fails with argparse's message."""
    module = importlib.import_module(script(tool)[0])
    parser = module.build_parser() if hasattr(module, "build_parser") else module.parser()
    try:
        return parser.parse_args(args)
    except SystemExit as exc:
        raise AssertionError(
            f"{tool} {' '.join(args)}: usage error (exit {exc.code}; argparse said why above)"
        ) from None


def call(tool: str, args: list[str], cwd: Path) -> int:
    """Run the tool's console script in this process (as its entry point would), in ``cwd``."""
    module, func = script(tool)
    main = getattr(importlib.import_module(module), func)
    before = os.getcwd()
    os.chdir(cwd)
    try:
        return main(args) or 0
    except SystemExit as exc:  # --help, --version
        return exc.code or 0
    finally:
        os.chdir(before)


#: What each document presumes is there: its path (absolute, or relative to the current folder) -> a
#: stand-in (doc_stand_ins.BUILDERS), "trained-run" / "checkpoint" (the one tiny run), or "DOC::PATH" (what
#: another document's commands wrote).
GIVEN = {
    "README.md": {
        "/data/DOTA/train": "raw/DOTA-small",
        "/data/DIOR": "raw/DIOR-small",
        "/data/rs/eval": "eval-root",
        "/data/rs/remotecount": "remotecount",
    },
    "docs/reproduce.md": {f"/data/raw/{name}": f"raw/{name}" for name in [*RECIPE_SOURCES, *SCENE_SETS]},
    "packages/rs-annotate/README.md": {
        "DOTA/train": "raw/DOTA-small",
        "DIOR": "raw/DIOR-small",
        "RSICD": "raw/RSICD-small",
        "wds_vtab-eurosat": "wds-set",
    },
    "packages/rs-clip-train/README.md": {
        "runs/data/captions": "captions",
        "/data/ret3": "captions",
        "/data/det10": "captions",
        "/data/seg4": "captions",
    },
    "packages/rs-clip-eval/README.md": {
        "runs/tiny": "trained-run",
        "runs/final": "checkpoint",
        "suite.yaml": "yaml-block",
        "data": "evalsets",
        "/data/rs/eval": "eval-root",
        "/data/rs/archive": "captions",
        "last-month": "README.md::out",
        "count-report": "packages/rs-count/README.md::report",
    },
    "packages/rs-count/README.md": {
        "DOTA/val": "raw/DOTA/val",
        "remotecount.csv": "remotecount-release",
        "RemoteCount": "remotecount-release",
        "runs/final": "checkpoint",
    },
    "packages/rs-formats/README.md": {"data/my-captions": "captions", "runs/vitb32": "trained-run"},
    "docs/contracts.md": {"DS": "captions"},
    "packages/rs-clip-search/README.md": {
        "imagery": "raw/DOTA-small",
        "more-imagery": "raw/DIOR-small",
        "runs/final": "checkpoint",
    },
    "examples/caption-and-count/README.md": {"runs/tiny": "trained-run"},
    "docs/public-api.md": {"data": "evalsets"},
}
#: Python blocks run after their document's commands (in its folder, paths substituted), found by their first
#: line: the one-liners that read a dataset with the tools people already use (test_engines.py checks what
#: they read; this, that the lines as the documents write them work), and the Python API's example.
ENGINES = "import pyarrow.dataset as ds;"
PYTHON_RUN = {
    "README.md": ENGINES,
    "docs/contracts.md": ENGINES,
    "packages/rs-formats/README.md": ENGINES,
    "docs/public-api.md": "import rs_clip_eval;",  # the Python API's example, on the rs-synth evalsets
}
#: Lines of those blocks that are not run (compiled only): pattern -> why.
PYTHON_NOT_RUN = {
    r"^import ray;": "starts a local Ray (~10 s); rs-formats' test_engines.py reads the same "
    "layout with ray.data.read_parquet"
}
#: The documents run here: those with commands, or Python blocks to run.
RUN_DOCS = [d for d in DOCS if doc_commands(d) or d in PYTHON_RUN]


class Docs:
    """Runs documents' commands, each document once, in a folder of its own under ``root``."""

    def __init__(self, root: Path, stand_ins: StandIns):
        self.root, self.stand_ins = root, stand_ins
        self.worlds: dict[str, Path] = {}
        self.ran: dict[str, list[tuple[Command, str]]] = {}  # doc -> (command, what was done)
        self.failed: dict[str, str] = {}
        self.trained: Path | None = None

    # -- the document's folder and what it presumes
    def world(self, doc: str) -> Path:
        if doc not in self.worlds:
            world = self.root / re.sub(r"\W+", "-", doc).strip("-")
            (world / "home").mkdir(parents=True)
            self.worlds[doc] = world
            for path, what in GIVEN.get(doc, {}).items():
                self._link(self.local(world, path), self._given(doc, what, path))
        return self.worlds[doc]

    @staticmethod
    def local(world: Path, path: str) -> Path:
        return world / path.lstrip("/") if path.startswith("/") else world / "home" / path

    def _given(self, doc: str, what: str, path: str) -> Path:
        if what == "trained-run":
            return self.train()
        if what == "checkpoint":
            return (self.train() / "final").resolve()
        if what == "yaml-block":
            (block,) = blocks(doc, ("yaml",))
            target = self.root / "given" / re.sub(r"\W+", "-", doc) / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text)
            return target
        if "::" in what:
            other, out = what.split("::")
            self.run(other)
            return self.local(self.world(other), out)
        built = self.stand_ins[what]
        return built / Path(path).name if what == "remotecount-release" else built

    @staticmethod
    def _link(at: Path, target: Path) -> None:
        at.parent.mkdir(parents=True, exist_ok=True)
        if not at.exists():
            at.symlink_to(target, target_is_directory=target.is_dir())

    # -- one command
    def substitute(self, cmd: Command, world: Path) -> str:
        text = cmd.text
        for pattern, repl, _ in SUBSTITUTIONS:
            text = re.sub(
                pattern, repl.replace("{world}", str(world)).replace("{shared}", str(self.root)), text
            )
        for name in re.findall(rf"{re.escape(str(self.root))}/weights/([\w.-]+)\.safetensors", text):
            self._weights(name)
        return text

    def _weights(self, name: str) -> None:
        path = self.root / "weights" / f"{name}.safetensors"
        if not path.exists():
            import torch
            from safetensors.torch import save_file

            from rs_clip_models.models import create_model

            torch.manual_seed(sum(map(ord, name)))
            model, _, _ = create_model("RS-Tiny")
            path.parent.mkdir(exist_ok=True)
            save_file({k: v.contiguous() for k, v in model.state_dict().items()}, path)

    def execute(self, cmd: Command) -> str:
        """Run (or check) one command; returns what was done, for the record."""
        world = self.world(cmd.doc)
        why = not_run(cmd)
        if cmd.text.startswith("pip install ") and why is None:
            check_install(cmd)
            return "install: one of the README's, naming every rs-clip package it needs"
        text = self.substitute(cmd, world)
        words = expand(cmd, text, world / "home")
        tool = tool_argv(words)
        if why is not None:
            if tool:
                parse(*tool)
            return f"not run ({why})" + (", parsed" if tool else "")
        assert tool, f"{cmd.where()}: neither runnable here nor listed in NOT_RUN: {cmd.text}"
        name, args = tool
        if name == "rs-clip-train" and args[:1] == ["fit"]:
            return self.fit(cmd, world, args)
        code = call(name, args, world / "home")
        assert code == 0, f"{cmd.where()}: exit status {code}: {' '.join(words)}"
        return "ran"

    def fit(self, cmd: Command, world: Path, args: list[str]) -> str:
        if (cmd.doc, cmd.text.startswith(TRAINS[1])) == (TRAINS[0], True) and self.trained is None:
            text = self.substitute(cmd, world)
            for pattern, repl in FIT_RUN:
                text = re.sub(pattern, repl, text, count=1)
            words = expand(cmd, text, world / "home")
            assert call("rs-clip-train", words[1:], world / "home") == 0, f"{cmd.where()}: training failed"
            self.trained = world / "home" / parse("rs-clip-train", words[1:]).out
            return "trained (tiny, 2 steps)"
        from rs_clip_train.cli import resolve_args
        from rs_clip_train.launch_common import plan

        cwd = os.getcwd()
        os.chdir(world / "home")
        try:
            run = resolve_args(parse("rs-clip-train", args)).validate()
            facts = plan(run)
        finally:
            os.chdir(cwd)
        assert facts["rows"] > 0
        self._link(world / "home" / run.out, self.train())
        return "checked (settings, datasets); its run directory is the one tiny run"

    def train(self) -> Path:
        if self.trained is None:
            (cmd,) = [c for c in doc_commands(TRAINS[0]) if c.text.startswith(TRAINS[1])]
            self.fit(cmd, self.world(TRAINS[0]), [])
        return self.trained

    # -- one document
    def run(self, doc: str) -> list[tuple[Command, str]]:
        """Every command of ``doc`` in order (once; later calls return the record, or fail as it did)."""
        assert doc not in self.failed, f"{doc} failed when run earlier: {self.failed[doc]}"
        if doc not in self.ran:
            self.ran[doc] = []  # a cycle of GIVEN entries would end here, and fail on a missing path
            try:
                self._run(doc, self.world(doc))
            except BaseException as exc:
                self.failed[doc] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise
        return self.ran[doc]

    def _run(self, doc: str, world: Path) -> None:
        for cmd in doc_commands(doc):
            if (cmd.doc, cmd.text.startswith(TRAINS[1])) == (TRAINS[0], True) and self.trained:
                self.ran[doc].append((cmd, "trained (tiny, 2 steps)"))
                continue
            start = time.perf_counter()
            what = self.execute(cmd)
            self.ran[doc].append((cmd, f"{what} [{time.perf_counter() - start:.1f} s]"))
        for block in blocks(doc, ("python",)) if doc in PYTHON_RUN else []:
            if block.text.startswith(PYTHON_RUN[doc]):
                self.ran[doc] += self.python(block, world)

    @staticmethod
    def python(block: Block, world: Path) -> list[tuple[Command, str]]:
        """A Python block, line by line (one-liners), absolute paths in the document's folder."""
        done, scope, cwd = [], {}, os.getcwd()
        os.chdir(world / "home")
        try:
            for n, line in enumerate(block.text.splitlines(), start=block.line + 1):
                code = compile(
                    re.sub(r"(?<=[\"'])/(data)/", rf"{world}/\1/", line), f"{block.doc}:{n}", "exec"
                )
                why = next((w for p, w in PYTHON_NOT_RUN.items() if re.search(p, line)), None)
                if why is None:
                    exec(code, scope)
                done.append((Command(block.doc, n, line), f"not run ({why}), compiled" if why else "ran"))
        finally:
            os.chdir(cwd)
        return done
