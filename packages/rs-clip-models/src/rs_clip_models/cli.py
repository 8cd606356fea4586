"""``rs-clip-models zoo``: the model zoo (:mod:`rs_clip_models.zoo`), the weights a ``--model`` spec can name
by entry and the network each one needs."""

from __future__ import annotations

import argparse
import sys

from rs_formats import console

from . import zoo

PROG = "rs-clip-models"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    console.add_version(parser, PROG, console.package_version("rs-clip-models"))
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "zoo",
        parents=[console.common_flags()],
        help="list the model zoo: each entry's --model spec, network, activation and usual files",
    )
    p.add_argument(
        "--markdown", action="store_true", help="the full table (sources, formats, notes) in Markdown"
    )
    return parser


def _zoo(markdown: bool) -> str:
    if markdown:
        return zoo.markdown()
    rows = [
        ("spec (ENTRY:FILE, or FILE under its usual name)", "open_clip model", "activation", "usual file(s)")
    ]
    for e in zoo.ZOO.values():
        evidence = {"confirmed": "", "inferred": " (inferred)", "unknown": " (unknown; assumed)"}[e.evidence]
        rows.append((f"{e.name}:FILE", e.model, e.activation + evidence, ", ".join(e.files)))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join("  ".join([*(c.ljust(w) for c, w in zip(r, widths)), r[3]]) for r in rows)


def _run(args: argparse.Namespace) -> int:
    print(_zoo(args.markdown))
    return 0


def main(argv: list[str] | None = None) -> int:
    return console.run(PROG, build_parser(), _run, argv)


if __name__ == "__main__":
    sys.exit(main())
