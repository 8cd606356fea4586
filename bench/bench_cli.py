"""Start-up of the six command lines: ``TOOL --version`` and ``TOOL --help`` wall time, against a bare
``python -c pass`` measured in the same rounds.

Each round runs every command once, in turn (so load on the machine hits all of them alike); the figure is
the median over rounds. Beside each tool: the time of importing its whole public API (``import PKG`` and
every name in ``PKG.__all__``), which is what ``--help`` cost while the packages imported their names
eagerly; with ``--before TREE`` (another checkout, e.g. ``git worktree add /tmp/before COMMIT``) the same
commands also run on that tree's packages, in the same rounds. Target: every ``--version`` and ``--help``
under 0.5 s.

Usage: python bench/bench_cli.py [--rounds 7] [--before TREE] [--out bench/results/cli.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration_tests"))
from cli_tools import TOOLS  # noqa: E402  (the workspace's tools, read from the packages' pyprojects)

TARGET_S = 0.5


def _source_path(tree: Path) -> str:
    """PYTHONPATH that imports the packages of the checkout at ``tree`` (the console scripts run them)."""
    return os.pathsep.join(str(p) for p in sorted(tree.glob("packages/*/src")))


def _commands(before: Path | None) -> dict[str, tuple[list[str], dict[str, str]]]:
    bin_dir = Path(sys.executable).parent
    here = {**os.environ, "PYTHONPATH": _source_path(Path(__file__).resolve().parents[1])}
    out = {"python -c pass": ([sys.executable, "-c", "pass"], here)}
    for tool, package in TOOLS.items():
        script = shutil.which(tool, path=str(bin_dir)) or shutil.which(tool)
        if script is None:
            raise SystemExit(f"bench_cli: {tool} is not installed (pip install -e packages/{tool})")
        trees = {
            "": here,
            **({"before ": {**os.environ, "PYTHONPATH": _source_path(before)}} if before else {}),
        }
        for label, env in trees.items():
            out[f"{label}{tool} --version"] = ([script, "--version"], env)
            out[f"{label}{tool} --help"] = ([script, "--help"], env)
        eager = f"import {package} as p\nfor n in p.__all__: getattr(p, n)"
        out[f"{tool} public API import"] = ([sys.executable, "-c", eager], here)
    return out


def _time(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=7, help="runs of each command (the median is reported)")
    ap.add_argument(
        "--before", type=Path, default=None, help="another checkout to measure in the same rounds"
    )
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "cli.json")
    args = ap.parse_args()
    commands = _commands(args.before)
    for argv, env in commands.values():  # warm the file cache; not measured
        _time(argv, env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.rounds):
        for name, (argv, env) in commands.items():
            times[name].append(_time(argv, env))
    median = {name: statistics.median(t) for name, t in times.items()}
    base = median["python -c pass"]
    rows = []
    for tool in TOOLS:
        version, help_, eager = (median[f"{tool} {k}"] for k in ("--version", "--help", "public API import"))
        rows.append(
            {
                "tool": tool,
                "version_s": round(version, 3),
                "help_s": round(help_, 3),
                "public_api_import_s": round(eager, 3),
                "version_x_python": round(version / base, 2),
                "help_x_python": round(help_ / base, 2),
                "public_api_import_x_python": round(eager / base, 2),
                "under_target": max(version, help_) < TARGET_S,
            }
        )
        if args.before:
            for key, flag in (("version", "--version"), ("help", "--help")):
                t = median[f"before {tool} {flag}"]
                rows[-1][f"before_{key}_s"], rows[-1][f"before_{key}_x_python"] = (
                    round(t, 3),
                    round(t / base, 2),
                )
    print(f"python -c pass: {base:.3f} s (median of {args.rounds})")
    print(f"{'tool':<14} {'--version':>16} {'--help':>16} {'public API import':>20}")
    for r in rows:
        print(
            f"{r['tool']:<14} {r['version_s']:>7.3f} s {r['version_x_python']:>5.1f}x "
            f"{r['help_s']:>7.3f} s {r['help_x_python']:>5.1f}x "
            f"{r['public_api_import_s']:>9.3f} s {r['public_api_import_x_python']:>6.1f}x"
            + (
                f"   before: --version {r['before_version_s']:.3f} s {r['before_version_x_python']:.1f}x, "
                f"--help {r['before_help_s']:.3f} s {r['before_help_x_python']:.1f}x"
                if args.before
                else ""
            )
        )
    ok = all(r["under_target"] for r in rows)
    print(f"every --version and --help under {TARGET_S} s: {'yes' if ok else 'NO'}")
    result = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_avg_1m": round(os.getloadavg()[0], 2),
        },
        "rounds": args.rounds,
        "before": str(args.before) if args.before else None,
        "python_pass_s": round(base, 3),
        "target_s": TARGET_S,
        "tools": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
