"""``rs-count``: build a counting dataset, import a released one, evaluate models on it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rs_formats import FormatError

from . import __version__
from .build import BuildRules
from .captions import DEFAULT_TEMPLATE, CaptionTemplate
from .classes import REMOTECOUNT_CLASSES


def _csv(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(",") if s.strip())


def _add_image_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--image-size", type=int, default=384,
                   help="shrink stored images so the shorter side is at most this many pixels (default 384)")
    p.add_argument("--image-format", choices=("jpeg", "png"), default="jpeg", help="stored encoding (default jpeg)")
    p.add_argument("--jpeg-quality", type=int, default=92, help="JPEG quality 1-95 (default 92)")
    p.add_argument("--template", default=DEFAULT_TEMPLATE,
                   help=f"caption template with {{number}}, {{noun}}, optional {{be}} (default {DEFAULT_TEMPLATE!r})")
    p.add_argument("--skip-bad", action="store_true",
                   help="skip (and count) malformed labels, unknown classes, bad counts and missing images "
                        "instead of stopping at the first one")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.add_argument("--name", help="dataset name stored in the manifest")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="rs-count", description="RemoteCount: can a CLIP model count 1-10 objects "
                                 "in aerial images? Build the benchmark, then evaluate models on it.")
    ap.add_argument("--version", action="version", version=f"rs-count {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="build a counting dataset from DOTA-format labelTxt files",
                       description="Select images where one RemoteCount class appears 1-10 times (see README: "
                                   "selection rules) and write an rs-dataset of kind 'counting'.")
    b.add_argument("--labels", required=True, type=Path, help="directory of DOTA labelTxt files (*.txt)")
    b.add_argument("--images", required=True, type=Path, help="directory of the matching images")
    b.add_argument("--out", required=True, type=Path, help="output dataset directory")
    b.add_argument("--classes", type=_csv, default=REMOTECOUNT_CLASSES,
                   help="comma-separated classes to count (default: all 13 RemoteCount classes)")
    b.add_argument("--min-count", type=int, default=1, help="smallest count kept (default 1)")
    b.add_argument("--max-count", type=int, default=10, help="largest count kept (default 10)")
    b.add_argument("--min-share", type=float, default=0.7,
                   help="the counted class's minimum share of the image's RemoteCount-class objects, > 0.5 "
                        "(default 0.7)")
    b.add_argument("--min-object-size", type=float, default=8.0,
                   help="skip images where a counted object's oriented box is narrower than this, in stored pixels "
                        "(default 8)")
    b.add_argument("--min-visible", type=float, default=0.9,
                   help="share of an object's polygon that must lie inside the kept region for it to count; "
                        "images with objects cut by the border are skipped (default 0.9)")
    b.add_argument("--difficult", choices=("skip-image", "ignore"), default="skip-image",
                   help="an image whose counted class has a 'difficult' instance is skipped (default), or "
                        "difficult instances are ignored")
    b.add_argument("--crop", choices=("center-square", "none"), default="center-square",
                   help="keep the central square (what CLIP's centre crop shows; default) or the whole image")
    b.add_argument("--balanced", action="store_true",
                   help="keep the same number of images for every count (the smallest count group's size)")
    b.add_argument("--per-count", type=int, help="keep at most this many images per count")
    b.add_argument("--seed", type=int, default=0, help="seed of the deterministic choice when balancing")
    b.add_argument("--other-classes", type=_csv, default=(),
                   help="comma-separated extra (not counted) class names your labels use besides DOTA's")
    b.add_argument("--source", default="dota", help="source name, also the image_id prefix (default dota)")
    _add_image_flags(b)

    i = sub.add_parser("import", help="import a released RemoteCount annotation file (CSV/JSON/JSONL)",
                       description="Each record names an image and its class and count, or a caption.")
    i.add_argument("file", type=Path, help="annotation file (.csv, .json or .jsonl)")
    i.add_argument("--images", required=True, type=Path, help="directory of the images it names")
    i.add_argument("--out", required=True, type=Path, help="output dataset directory")
    i.add_argument("--source", default="remotecount", help="source name, also the image_id prefix")
    _add_image_flags(i)

    e = sub.add_parser("eval", help="evaluate one or more CLIP models on a counting dataset",
                       description="Writes results.json, report.md, topk.png and confusion-*.png to OUT_DIR.")
    e.add_argument("out_dir", type=Path, help="directory for the report")
    e.add_argument("--model", action="append", required=True, metavar="[LABEL=]SPEC",
                   help="an rs-clip-checkpoint directory, NAME:WEIGHTS (open_clip name + local weights file) "
                        "or NAME (random init, e.g. RS-Tiny); repeat to compare models")
    e.add_argument("--data", required=True, type=Path, help="counting dataset (rs-count build / import)")
    e.add_argument("--split", help="dataset split (default: 'test', or the only split)")
    e.add_argument("--variant", choices=("words", "digits", "both"), default="both",
                   help="numbers in captions as words ('three'), digits ('3') or both (default both)")
    e.add_argument("--template", default=DEFAULT_TEMPLATE, help="caption template (see build --help)")
    e.add_argument("--device", help="torch device (default: cuda if available, else cpu)")
    e.add_argument("--batch-size", type=int, default=256, help="images (and captions) per forward pass")
    e.add_argument("--workers", type=int, default=2, help="image decoding worker processes (0 = in process)")
    e.add_argument("--reference", type=Path, help="JSON of quoted reference figures to show beside yours")
    e.add_argument("--no-per-image", action="store_true", help="leave per-image predictions out of results.json")
    e.add_argument("--no-progress", action="store_true", help="no progress bars")
    return ap


def _rules(args: argparse.Namespace, **kw) -> BuildRules:
    return BuildRules(image_size=args.image_size, image_format=args.image_format, jpeg_quality=args.jpeg_quality,
                      template=CaptionTemplate(args.template), source=args.source, **kw)


def _build(args: argparse.Namespace) -> int:
    from .build import build

    rules = _rules(args, classes=args.classes, min_count=args.min_count, max_count=args.max_count,
                   min_share=args.min_share, min_object_size=args.min_object_size,
                   min_visible=args.min_visible, difficult=args.difficult,
                   crop=args.crop, balanced=args.balanced, per_count=args.per_count, seed=args.seed,
                   other_classes=args.other_classes)
    report = build(args.labels, args.images, args.out, rules, skip_bad=args.skip_bad, overwrite=args.overwrite,
                   name=args.name, progress=not args.no_progress)
    print(report.summary())
    return 0


def _import(args: argparse.Namespace) -> int:
    from .importer import import_annotations

    report = import_annotations(args.file, args.images, args.out, _rules(args), skip_bad=args.skip_bad,
                                overwrite=args.overwrite, name=args.name, progress=not args.no_progress)
    print(report.summary())
    return 0


def _eval(args: argparse.Namespace) -> int:
    from rs_formats.spec import ModelSpec

    from .evaluate import evaluate_model, load_counting
    from .report import load_reference, to_markdown, write_report

    template = CaptionTemplate(args.template)
    variants = ("words", "digits") if args.variant == "both" else (args.variant,)
    specs = [ModelSpec.parse(m) for m in args.model]
    reference = load_reference(args.reference) if args.reference else []
    data = load_counting(args.data, args.split)  # a bad dataset fails before any model is loaded
    if args.device is None:
        import torch

        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    results = []
    for spec in specs:
        results += evaluate_model(spec, data.dataset, variants=variants, template=template, device=args.device,
                                  batch_size=args.batch_size, num_workers=args.workers, split=data.split,
                                  progress=not args.no_progress)
    files = write_report(results, args.out_dir, reference=reference, per_image=not args.no_per_image)
    print(to_markdown(results).split("## Top-1 accuracy per class")[0].rstrip())
    print(f"\nreport: {files['markdown']}  results: {files['json']}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    run = {"build": _build, "import": _import, "eval": _eval}[args.command]
    try:
        return run(args)
    except (FormatError, FileExistsError, FileNotFoundError, ValueError) as exc:
        # Bad input of any kind is the user's to fix: one line naming the file, no traceback.
        print(f"rs-count {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rs-count: interrupted; nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
