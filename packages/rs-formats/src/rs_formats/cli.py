"""``rs-formats verify|info PATH``: check a dataset (a folder, or a URI such as ``s3://bucket/ds``) or a
checkpoint against its contract."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import console
from .errors import FormatError
from .inputs import read_json
from .location import URI_SCHEMES, is_uri

PROG = "rs-formats"


def _kind(path: Path) -> str:
    from .checkpoint import MANIFEST

    try:
        manifest = read_json(path / MANIFEST)
    except FormatError:
        return "?"
    return manifest.get("format", "?") if isinstance(manifest, dict) else "?"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    console.add_version(parser, "rs-formats")
    console.add_completion(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("verify", "recompute checksums and read every row (datasets) or the weights (checkpoints)"),
        ("info", "print the manifest of a dataset or checkpoint after validating it"),
    ):
        p = sub.add_parser(name, help=help_text, parents=[console.common_flags()])
        p.add_argument(
            "path",
            help=f"an rs-dataset or rs-clip-checkpoint directory, or an rs-dataset's URI ({URI_SCHEMES})",
        )
    return parser


def _run(args: argparse.Namespace) -> int:
    from .checkpoint import has_resume_state, verify_checkpoint  # pyarrow and the rest: not for a --help
    from .dataset import open_dataset, verify_dataset

    is_checkpoint = not is_uri(args.path) and _kind(Path(args.path)) == "rs-clip-checkpoint"
    if args.command == "verify":
        if is_checkpoint:
            info = verify_checkpoint(args.path)
            report, note = info.manifest, "" if has_resume_state(info) else " (no resume state)"
        else:
            report, note = verify_dataset(args.path), ""
        print(json.dumps(report, indent=2))
        print(f"ok: {args.path}{note}")
    else:
        manifest = (
            verify_checkpoint(args.path).manifest if is_checkpoint else open_dataset(args.path).manifest
        )
        print(json.dumps(manifest, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    return console.run(PROG, build_parser(), _run, argv)


if __name__ == "__main__":
    sys.exit(main())
