"""Run every package's tests, each in its own pytest process, and print one combined summary.

Each package is tested on its own (as it is installed and used on its own): no conftest, fixture or
module state leaks between packages, and Ray/DeepSpeed state from one suite cannot affect another.
Usage: ``hatch run test [SUITE_DIR ...] [-- PYTEST_ARGS]``.
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
    "packages/rs-synth/tests",
    "packages/rs-annotate/tests",
    "packages/rs-count/tests",
    "packages/rs-clip-eval/tests",
    "packages/rs-clip-train/tests",
    "integration_tests",
]
COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)")


def main(argv: list[str]) -> int:
    if "--" in argv:
        split = argv.index("--")
        chosen, extra = argv[:split], argv[split + 1:]
    else:
        chosen, extra = [a for a in argv if not a.startswith("-")], [a for a in argv if a.startswith("-")]
    suites = chosen or SUITES
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
            [sys.executable, "-m", "pytest", suite, "-q", "-p", "no:cacheprovider", *extra],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        sys.stdout.write(proc.stdout)
        counts: dict[str, int] = {}
        summary = [line for line in proc.stdout.splitlines() if COUNT.search(line) and " in " in line]
        for n, what in COUNT.findall(summary[-1] if summary else ""):
            key = "errors" if what.startswith("error") else what
            counts[key] = counts.get(key, 0) + int(n)
        for key, n in counts.items():
            totals[key] = totals.get(key, 0) + n
        # pytest's 5 ("no tests collected") is a failure here: an empty suite proves nothing.
        if proc.returncode != 0:
            worst = 1
        rows.append((suite, proc.returncode, counts, time.monotonic() - start))
    print("\n== summary")
    for suite, code, counts, secs in rows:
        desc = ", ".join(f"{n} {k}" for k, n in counts.items()) or "no tests"
        print(f"{'ok  ' if code == 0 else 'FAIL'} {suite:34s} {desc:40s} {secs:7.1f} s")
    failed = totals.get("failed", 0) + totals.get("errors", 0)
    line = f"{totals.get('passed', 0)} passed, {failed} failed"
    if totals.get("skipped"):
        line += f", {totals['skipped']} skipped"
    print(line)
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
