"""``rs-annotate``: convert, merge, dedup, stats, show, validate, datasets.

Errors in the input (bad files, wrong formats, existing outputs) print one line,
``rs-annotate: error: <file:line: message>``, and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from rs_formats import FormatError

from .b2c import B2CConfig
from .near_duplicates import KEEP_POLICIES
from .types import BadInput
from .workers import WorkerDied

PROG = "rs-annotate"


def _parse_value(text: str) -> Any:
    """Reader option values: JSON when it parses (numbers, true/false, lists), else the plain string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _options(pairs: Sequence[str]) -> dict[str, Any]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--opt expects key=value, got {pair!r}")
        out[key.replace("-", "_")] = _parse_value(value)
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Turn remote-sensing labels into image-caption datasets "
                                                       "(rs-dataset v1), RemoteCLIP-style.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__import__('rs_annotate').__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    c = sub.add_parser("convert", help="convert a source dataset (FORMAT, see `datasets`) to an rs-dataset")
    c.add_argument("format", metavar="FORMAT", help="source format name, e.g. dota, dior, rsicd (see `datasets`)")
    c.add_argument("src", metavar="SRC", help="the source dataset's root directory")
    c.add_argument("out", metavar="OUT", help="output dataset directory (must not exist unless --overwrite)")
    c.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    c.add_argument("--seed", type=int, default=0, help="seed of the B2C captions (default 0)")
    c.add_argument("--short-side", "--max-side", dest="short_side", type=int, default=256,
                   help="shorter side of stored images in pixels, never upscaled; 0 keeps the size (default 256)")
    c.add_argument("--keep-original", action="store_true",
                   help="store the original image files unchanged (no resize or re-encode)")
    c.add_argument("--image-format", choices=["jpeg", "png", "webp", "JPEG", "PNG", "WEBP"], default="jpeg",
                   help="format of re-encoded images (default JPEG)")
    c.add_argument("--jpeg-quality", type=int, default=90, help="JPEG quality of re-encoded images (default 90)")
    c.add_argument("--tile", type=int, default=None, metavar="SIZE",
                   help="cut images larger than SIZE into SIZE x SIZE tiles before resizing (DOTA-style)")
    c.add_argument("--tile-overlap", type=int, default=200, metavar="PX", help="tile overlap in pixels (default 200)")
    c.add_argument("--tile-min-visible", type=float, default=0.5,
                   help="keep a box cut by a tile edge when at least this fraction of it remains (default 0.5)")
    c.add_argument("--skip-bad", action="store_true",
                   help="skip bad items (counted and listed in OUT.report.json) instead of stopping at the first")
    c.add_argument("--bad-boxes", choices=["error", "drop"], default="error",
                   help="boxes with zero area or wholly outside the image: fail the image, or drop the box "
                        "(counted) (default error)")
    c.add_argument("--keep-empty", action="store_true",
                   help="keep images without objects (with a fixed caption) instead of skipping them")
    c.add_argument("--split", default=None, help="put every row in this split instead of the source's split")
    c.add_argument("--name", default=None, help="dataset name in the manifest (default: OUT's directory name)")
    c.add_argument("--center", type=float, default=B2CConfig.center,
                   help="B2C: fraction of each axis that is 'the middle of the picture' (default 0.5)")
    c.add_argument("--many-prob", type=float, default=B2CConfig.many_prob,
                   help="B2C: probability that a count over ten becomes 'many'/'a lot of' (default 0.9)")
    c.add_argument("--subset", choices=["classes", "objects"], default=B2CConfig.subset,
                   help="B2C: captions 3-5 from random subsets of classes (full counts) or objects (default classes)")
    c.add_argument("--opt", action="append", default=[], metavar="KEY=VALUE",
                   help="a reader option (repeatable), e.g. --opt drop_difficult=true --opt label_dir=labelTxt-v1.5")
    c.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    c.add_argument("--no-progress", action="store_true", help="no progress bar")

    m = sub.add_parser("merge", help="concatenate datasets of one kind into one")
    m.add_argument("datasets", nargs="+", metavar="DS", help="input datasets")
    m.add_argument("out", metavar="OUT", help="output dataset directory")
    m.add_argument("--name", default=None, help="dataset name (default: OUT's directory name)")
    m.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")

    d = sub.add_parser("dedup", help="merge datasets without near-duplicate images and without test-set images")
    d.add_argument("datasets", nargs="+", metavar="DS", help="input datasets, most preferred first")
    d.add_argument("out", metavar="OUT", help="output dataset directory (report: OUT.report.json)")
    d.add_argument("--against", nargs="+", default=[], metavar="TEST_DS",
                   help="evaluation datasets: training images matching any of their images are removed and listed")
    d.add_argument("--against-split", action="append", default=None, metavar="SPLIT",
                   help="only compare against these splits of the --against sets (default: all splits)")
    d.add_argument("--threshold", type=int, default=2,
                   help="duplicates differ in fewer than this many pHash bits (default 2)")
    d.add_argument("--keep", choices=KEEP_POLICIES, default="first",
                   help="which copy survives: first (input order, then test/val splits, then image_id) or "
                        "largest (largest original image) (default first)")
    d.add_argument("--name", default=None, help="dataset name (default: OUT's directory name)")
    d.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")

    s = sub.add_parser("stats", help="counts per source, class frequencies, caption lengths (JSON on stdout)")
    s.add_argument("dataset", metavar="DS", help="dataset directory")
    s.add_argument("--plots", default=None, metavar="DIR", help="also write PNG plots and stats.json into DIR")

    w = sub.add_parser("show", help="contact sheet of images with their boxes and first caption")
    w.add_argument("dataset", metavar="DS", help="dataset directory")
    w.add_argument("out", metavar="OUT.png", help="output image")
    w.add_argument("-n", type=int, default=16, help="number of images (default 16)")
    w.add_argument("--split", default=None, help="split to show (default: the first)")
    w.add_argument("--columns", type=int, default=4, help="images per row (default 4)")
    w.add_argument("--seed", type=int, default=0,
                   help="seed of the sample: images are drawn at random per source and dealt round-robin over "
                        "the sources; the same seed shows the same images (default 0)")

    v = sub.add_parser("validate", help="verify checksums and schema, and check every row")
    v.add_argument("dataset", metavar="DS", help="dataset directory")
    v.add_argument("--no-decode", action="store_true", help="skip decoding the images (faster)")

    sub.add_parser("datasets", help="list the supported source formats, their layout, license and URL")
    return p


def _run(args: argparse.Namespace) -> int:
    from . import api

    if args.command == "convert":
        b2c = B2CConfig(center=args.center, many_prob=args.many_prob, subset=args.subset)
        opts = api.ConvertOptions(
            workers=args.workers, seed=args.seed, short_side=args.short_side or None,
            keep_original=args.keep_original, image_format=args.image_format, jpeg_quality=args.jpeg_quality,
            tile=args.tile, tile_overlap=args.tile_overlap, tile_min_visible=args.tile_min_visible,
            skip_bad=args.skip_bad, bad_boxes=args.bad_boxes, keep_empty=args.keep_empty, split=args.split,
            name=args.name, reader_options=_options(args.opt), b2c=b2c, progress=not args.no_progress,
            overwrite=args.overwrite)
        report = api.convert(args.format, args.src, args.out, opts)
        print(f"{args.out}: {report.summary()}")
        if report.n_bad or report.skipped or report.dropped_by_reader:
            print(f"{report.n_bad} bad item(s), {report.n_skipped} skipped input(s), "
                  f"{report.n_dropped_by_reader} box(es) dropped by the format's rules: examples in "
                  f"{args.out}.report.json", file=sys.stderr)
    elif args.command == "merge":
        r = api.merge(args.datasets, args.out, name=args.name, overwrite=args.overwrite)
        print(f"{args.out}: {r['rows']} rows from {len(args.datasets)} datasets")
    elif args.command == "dedup":
        r = api.dedup(args.datasets, args.out, against=args.against, against_splits=args.against_split,
                      threshold=args.threshold, keep=args.keep, name=args.name, overwrite=args.overwrite)
        print(f"{args.out}: kept {r['rows_out']} of {r['rows_in']} rows ({r['removed_duplicates']} duplicates, "
              f"{r['removed_contaminated']} matching test images); report: {args.out}.report.json")
    elif args.command == "stats":
        print(json.dumps(api.stats(args.dataset, plots=args.plots), indent=2))
    elif args.command == "show":
        print(api.show(args.dataset, args.out, n=args.n, split=args.split, columns=args.columns, seed=args.seed))
    elif args.command == "validate":
        r = api.validate(args.dataset, decode=not args.no_decode)
        for problem in r["problems"]:
            print(problem)
        print(f"{args.dataset}: {r['rows']} rows, {r['n_problems']} problem(s)")
        return 0 if r["ok"] else 1
    elif args.command == "datasets":
        for info in api.datasets():
            print(f"{info['name']}  [{info['kind']}]  {info['title']}")
            if info["aliases"]:
                names = ", ".join(f"{a} ({' '.join(f'{k}={v}' for k, v in o.items())})" if o else a
                                  for a, o in info["aliases"].items())
                print(f"  aliases: {names}")
            print(f"  source:  {info['url']}")
            print(f"  license: {info['license']}")
            print("  layout:")
            for line in info["layout"].splitlines():
                print(f"    {line}")
            print()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except (BadInput, FormatError, FileExistsError, FileNotFoundError, ValueError, WorkerDied) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
