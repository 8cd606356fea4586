"""The shell commands of the documentation, read as a user's shell reads them: the one parser of the tests
that run what the docs say (test_docs_commands, test_reproduce_*, test_isolation, test_downstream_example).

A command block is a fenced block tagged ``bash``, ``sh``, ``shell`` or ``console`` (in a ``console`` block
only the ``$ `` lines are commands). Within one: ``\\`` continues a line, ``#`` starts a comment, ``&&`` and
``;`` separate commands, ``for VAR in WORDS; do ... done`` is unrolled, and ``NAME=VALUE`` alone on a line
(or ``export NAME=VALUE ...``) sets variables for the block's later commands. The words themselves
(quotes, ``$VAR``, ``{a,b}``, globs) are expanded by bash (:func:`expand`), at run time, in the folder
the command runs in, so that a glob sees what the commands before it wrote.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHELL_FENCES = ("bash", "sh", "shell", "console")
#: The documents whose command blocks tests run: every README, and every page of docs/.
DOCS = (
    "README.md",
    *sorted(p.relative_to(REPO).as_posix() for p in (REPO / "docs").glob("*.md")),
    *sorted(p.relative_to(REPO).as_posix() for p in REPO.glob("packages/*/README.md")),
    *sorted(p.relative_to(REPO).as_posix() for p in REPO.glob("examples/*/README.md")),
)
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)
_LOOP = re.compile(r"for (\w+) in ([^;]+); do$")
_ASSIGNMENT = re.compile(r"^([A-Za-z_]\w*)=(\S*)$")


@dataclass(frozen=True)
class Block:
    doc: str
    line: int  # of the opening fence
    lang: str
    text: str
    section: str  # the "## " heading above it ("" before the first)


@dataclass(frozen=True)
class Command:
    doc: str
    line: int  # the block's line of the command's first line
    text: str  # as written, continuations joined, comment dropped
    variables: dict[str, str] = field(default_factory=dict, compare=False)  # set earlier in the block
    section: str = ""

    @property
    def words(self) -> list[str]:
        """The words as written (before any expansion): enough to tell which program a command runs."""
        return self.text.split()

    def where(self) -> str:
        return f"{self.doc}:{self.line}"


def blocks(doc: str, langs: tuple[str, ...] | None = SHELL_FENCES) -> list[Block]:
    """The fenced blocks of ``doc`` (relative to the repository) in order; ``langs=None``: all of them."""
    text = (REPO / doc).read_text()
    out = []
    for m in _FENCE.finditer(text):
        if langs is None or m.group(1) in langs:
            before = text[: m.start()]
            heads = re.findall(r"^## (.*)$", before, re.M)
            out.append(Block(doc, before.count("\n") + 1, m.group(1), m.group(2), heads[-1] if heads else ""))
    return out


def _strip_comment(line: str) -> str:
    """The line without its comment: a ``#`` at the start of a word and outside quotes."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def _split(line: str) -> list[str]:
    """``a && b; c`` -> ``[a, b, c]`` (outside quotes)."""
    parts, quote, start, i = [], None, 0, 0
    while i < len(line):
        ch = line[i]
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif line.startswith("&&", i) or ch == ";":
            parts.append(line[start:i].strip())
            i += 2 if ch == "&" else 1
            start = i
            continue
        i += 1
    parts.append(line[start:].strip())
    return [p for p in parts if p]


def commands(block: Block) -> list[Command]:
    """The block's commands in order (see the module docstring for what is understood)."""
    lines = block.text.splitlines()
    if block.lang == "console":
        lines = [ln[2:] if ln.startswith("$ ") else "" for ln in lines]
    joined: list[tuple[int, str]] = []  # (line number, text): continuations joined, comments dropped
    pending: tuple[int, str] | None = None
    for n, raw in enumerate(lines, start=block.line + 1):
        body = _strip_comment(raw)
        cont = body.endswith("\\")
        body = body[:-1].rstrip() if cont else body
        pending = (pending[0], f"{pending[1]} {body.strip()}") if pending else (n, body.strip())
        if not cont:
            if pending[1]:
                joined.append(pending)
            pending = None

    out: list[Command] = []
    variables: dict[str, str] = {}

    def add(n: int, line: str) -> None:
        for cmd in _split(line):
            assignments = [_ASSIGNMENT.match(w) for w in cmd.removeprefix("export ").split()]
            if all(assignments):
                variables.update(a.groups() for a in assignments)
            else:
                out.append(Command(block.doc, n, cmd, dict(variables), block.section))

    i = 0
    while i < len(joined):
        n, line = joined[i]
        loop = _LOOP.match(line)
        if loop:
            end = next(j for j in range(i + 1, len(joined)) if joined[j][1] == "done")
            for value in loop.group(2).split():
                for m, body in joined[i + 1 : end]:
                    add(m, re.sub(rf"\$\{{?{loop.group(1)}\b\}}?", value, body))
            i = end + 1
            continue
        if re.match(r"(for|while|until|if|case|function)\b", line):
            raise ValueError(f"{block.doc}:{n}: shell construct not understood: {line}")
        add(n, line)
        i += 1
    return out


def doc_commands(doc: str) -> list[Command]:
    return [c for b in blocks(doc) for c in commands(b)]


def expand(command: Command, text: str, cwd: Path) -> list[str]:
    """``text`` (the command, perhaps with paths substituted) as the words bash would run: quotes removed,
    the block's variables, braces and globs expanded in ``cwd``. Redirections and pipes are refused."""
    if re.search(r"[|<>`]|\$\(", re.sub(r"'[^']*'|\"[^\"]*\"", "", text)):
        raise ValueError(f"{command.where()}: not a simple command: {text}")
    proc = subprocess.run(
        ["bash", "-c", f'printf "%s\\0" {text}'],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **command.variables},
    )
    if proc.returncode:
        raise ValueError(f"{command.where()}: bash could not expand {text!r}: {proc.stderr.strip()}")
    return proc.stdout.split("\0")[:-1]
