"""Run every package's tests, each in its own pytest process, and print one combined summary.

Each package is tested on its own (as it is installed and used on its own): no conftest, fixture or
module state leaks between packages, and Ray/DeepSpeed state from one suite cannot affect another.

Usage: ``hatch run test [TARGET ...] [PYTEST_ARGS ...]``. A TARGET is what pytest takes (a suite folder, a
test file, ``file.py::test_name``, ``file.py::Class::test``), relative to the repository or the current
folder: only the suites holding targets run, each with its own targets. Everything else (``-k EXPR``, ``-x``,
``-m slow``, ``--durations 5``, ...) goes to every pytest run as it is; a ``--`` is optional. With a
selection (targets, ``-k`` or ``-m``) a suite in which nothing is selected is not a failure, but a run in
which nothing at all is selected is.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SUITES = [
    "packages/rs-formats/tests",
    "packages/rs-clip-models/tests",
    "packages/rs-synth/tests",
    "packages/rs-annotate/tests",
    "packages/rs-count/tests",
    "packages/rs-clip-eval/tests",
    "packages/rs-clip-train/tests",
    "packages/rs-clip-search/tests",
    "integration_tests",
]
COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)")


#: pytest options whose value is the next argument (so that the value is never taken for a TARGET).
VALUED = {
    "-k",
    "-m",
    "-p",
    "-o",
    "-c",
    "-W",
    "--maxfail",
    "--durations",
    "--junitxml",
    "--basetemp",
    "--rootdir",
    "--deselect",
    "--ignore",
    "--timeout",
    "--tb",
    "--log-level",
    "--override-ini",
}


class UsageError(Exception):
    pass


def suite_of(target: str) -> tuple[str, str | None]:
    """``(suite, target relative to the repository, or None for the whole suite)`` for a pytest TARGET."""
    path, sep, rest = target.partition("::")
    for base in (Path.cwd(), REPO):
        full = (base / path).resolve()
        if full.exists():
            break
    else:
        raise UsageError(f"{path}: no such test file or folder")
    for suite in SUITES:
        root = (REPO / suite).resolve()
        if full == root and not sep:
            return suite, None
        if full.is_relative_to(root):
            return suite, full.relative_to(REPO).as_posix() + sep + rest
    raise UsageError(f"{path}: not inside a test suite ({', '.join(SUITES)})")


def parse(argv: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Split the command line into ``{suite: its targets ([] = all of it)}``, in SUITES order, and the
    arguments every pytest run gets."""
    targets: dict[str, list[str] | None] = {}  # None: the whole suite was named
    extra: list[str] = []
    args = iter(a for a in argv if a != "--")
    for arg in args:
        if arg.startswith("-"):
            extra.append(arg)
            if arg in VALUED:
                extra.append(next(args, ""))
            continue
        suite, target = suite_of(arg)
        if target is None:
            targets[suite] = None
        elif targets.get(suite, []) is not None:
            targets.setdefault(suite, []).append(target)
    chosen = {s: targets[s] or [] for s in SUITES if s in targets}
    return chosen or {s: [] for s in SUITES}, extra


def main(argv: list[str]) -> int:
    try:
        suites, extra = parse(argv)
    except UsageError as e:
        print(f"test: error: {e}", file=sys.stderr)
        return 2
    selecting = (
        len(suites) < len(SUITES) or any(suites.values()) or any(a.startswith(("-k", "-m")) for a in extra)
    )
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"), "MPLBACKEND": "Agg"}
    totals: dict[str, int] = {}
    rows = []
    worst = 0
    for suite in suites:
        if not (REPO / suite).exists():
            print(f"== {suite}: missing", flush=True)
            worst = 1
            continue
        print(f"\n== {suite}", flush=True)
        start = time.monotonic()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                *(suites[suite] or [suite]),
                "-q",
                "-p",
                "no:cacheprovider",
                *extra,
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        sys.stdout.write(proc.stdout)
        counts: dict[str, int] = {}
        summary = [line for line in proc.stdout.splitlines() if COUNT.search(line) and " in " in line]
        for n, what in COUNT.findall(summary[-1] if summary else ""):
            key = "errors" if what.startswith("error") else what
            counts[key] = counts.get(key, 0) + int(n)
        for key, n in counts.items():
            totals[key] = totals.get(key, 0) + n
        # pytest's 5 ("no tests collected") is a failure here: an empty suite proves nothing, unless a
        # selection left nothing in this suite (checked over the whole run below).
        ok = proc.returncode == 0 or (proc.returncode == 5 and selecting)
        if not ok:
            worst = 1
        rows.append((suite, ok, counts, time.monotonic() - start))
    print("\n== summary")
    for suite, ok, counts, secs in rows:
        desc = ", ".join(f"{n} {k}" for k, n in counts.items()) or "no tests"
        print(f"{'ok  ' if ok else 'FAIL'} {suite:34s} {desc:40s} {secs:7.1f} s")
    failed = totals.get("failed", 0) + totals.get("errors", 0)
    if not any(totals.get(k) for k in ("passed", "failed", "errors", "skipped", "xfailed", "xpassed")):
        print("no test was selected")
        worst = 1
    line = f"{totals.get('passed', 0)} passed, {failed} failed"
    if totals.get("skipped"):
        line += f", {totals['skipped']} skipped"
    print(line)
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
