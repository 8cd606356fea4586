"""``rs-count``: build a counting dataset, import a released one, evaluate models on it.

Follows the command-line convention of every rs-clip tool (:mod:`rs_formats.console`); ``eval`` takes
the flags every evaluating command shares (:mod:`rs_clip_eval.flags`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from rs_clip_eval.flags import (
    add_embedding_flags,
    add_model_flag,
    add_out_flag,
    eval_config,
    open_cache,
    output_dir,
)
from rs_formats.console import add_deprecated_alias, add_version, common_flags, package_version, run
from rs_formats.location import path_or_uri

from .captions import DEFAULT_TEMPLATE, CaptionTemplate
from .classes import REMOTECOUNT_CLASSES, class_name
from .rules import IMAGE_FORMATS, BuildRules

PROG = "rs-count"
log = logging.getLogger("rs_count")


def _csv(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(",") if s.strip())


def _class_names(text: str) -> tuple[str, ...]:
    """A comma-separated list of class names; one that reads as no name is a usage error naming the flag."""
    names = _csv(text)
    for name in names:
        try:
            class_name(name)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return names


def _add_image_flags(p: argparse.ArgumentParser) -> None:
    defaults = BuildRules()
    p.add_argument(
        "--short-side",
        type=int,
        default=defaults.short_side,
        help=f"shrink stored images so the shorter side is at most this many pixels "
        f"(default {defaults.short_side})",
    )
    add_deprecated_alias(p, "--image-size", "--short-side", dest="short_side", type=int)
    p.add_argument(
        "--image-format",
        choices=IMAGE_FORMATS,
        default=defaults.image_format,
        help=f"stored encoding (default {defaults.image_format})",
    )
    p.add_argument(
        "--jpeg-quality",
        type=int,
        default=defaults.jpeg_quality,
        help=f"JPEG quality 1-95 (default {defaults.jpeg_quality})",
    )
    p.add_argument(
        "--template",
        default=DEFAULT_TEMPLATE,
        help=f"caption template with {{number}}, {{noun}}, optional {{be}} (default {DEFAULT_TEMPLATE!r})",
    )
    p.add_argument(
        "--skip-bad",
        action="store_true",
        help="skip (and count) malformed labels, unknown classes, bad counts and missing images "
        "instead of stopping at the first one",
    )
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.add_argument("--name", help="dataset name stored in the manifest")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog=PROG,
        description="RemoteCount: can a CLIP model count 1-10 objects "
        "in aerial images? Build the benchmark, then evaluate models on it.",
    )
    add_version(ap, PROG, package_version("rs-count"))
    sub = ap.add_subparsers(dest="command", required=True)
    console = common_flags()
    d = BuildRules()

    b = sub.add_parser(
        "build",
        parents=[console],
        help="build a counting dataset from DOTA-format labelTxt files",
        description="Select images where one RemoteCount class appears 1-10 times (see README: "
        "selection rules) and write an rs-dataset of kind 'counting'.",
    )
    b.add_argument("--labels", required=True, type=Path, help="directory of DOTA labelTxt files (*.txt)")
    b.add_argument("--images", required=True, type=Path, help="directory of the matching images")
    b.add_argument("--out", required=True, type=Path, help="output dataset directory")
    b.add_argument(
        "--classes",
        type=_class_names,
        default=REMOTECOUNT_CLASSES,
        help="comma-separated classes to count (default: all 13 RemoteCount classes)",
    )
    b.add_argument(
        "--min-count", type=int, default=d.min_count, help=f"smallest count kept (default {d.min_count})"
    )
    b.add_argument(
        "--max-count", type=int, default=d.max_count, help=f"largest count kept (default {d.max_count})"
    )
    b.add_argument(
        "--min-share",
        type=float,
        default=d.min_share,
        help="the counted class's minimum share of the image's RemoteCount-class objects, > 0.5 "
        f"(default {d.min_share})",
    )
    b.add_argument(
        "--min-object-size",
        type=float,
        default=d.min_object_size,
        help="skip images where a counted object's oriented box is narrower than this, in stored pixels "
        f"(default {d.min_object_size:g})",
    )
    b.add_argument(
        "--min-visible",
        type=float,
        default=d.min_visible,
        help="share of an object's polygon that must lie inside the kept region for it to count; "
        f"images with objects cut by the border are skipped (default {d.min_visible})",
    )
    b.add_argument(
        "--difficult",
        choices=("skip-image", "ignore"),
        default=d.difficult,
        help="an image whose counted class has a 'difficult' instance is skipped (default), or "
        "difficult instances are ignored",
    )
    b.add_argument(
        "--crop",
        choices=("center-square", "none"),
        default=d.crop,
        help="keep the central square (what CLIP's centre crop shows; default) or the whole image",
    )
    b.add_argument(
        "--balanced",
        action="store_true",
        help="keep the same number of images for every count (the smallest count group's size)",
    )
    b.add_argument("--per-count", type=int, help="keep at most this many images per count")
    b.add_argument("--seed", type=int, default=d.seed, help="seed of the deterministic choice when balancing")
    b.add_argument(
        "--other-classes",
        type=_class_names,
        default=(),
        help="comma-separated extra (not counted) class names your labels use besides DOTA's",
    )
    b.add_argument(
        "--source", default=d.source, help=f"source name, also the image_id prefix (default {d.source})"
    )
    _add_image_flags(b)

    i = sub.add_parser(
        "import",
        parents=[console],
        help="import a released RemoteCount annotation file (CSV/JSON/JSONL)",
        description="Each record names an image and its class and count, or a caption.",
    )
    i.add_argument("file", type=Path, help="annotation file (.csv, .json or .jsonl)")
    i.add_argument("--images", required=True, type=Path, help="directory of the images it names")
    i.add_argument("--out", required=True, type=Path, help="output dataset directory")
    i.add_argument("--source", default="remotecount", help="source name, also the image_id prefix")
    _add_image_flags(i)

    e = sub.add_parser(
        "eval",
        parents=[console],
        help="evaluate one or more CLIP models on a counting dataset",
        description="Writes results.json, report.md, topk.png and confusion-*.png to --out; "
        "prints the top-k table.",
    )
    add_model_flag(e)
    add_out_flag(e, "results.json, report.md and the plots")
    e.add_argument(
        "--data",
        required=True,
        type=path_or_uri,
        help="counting dataset (rs-count build / import): a directory or URI (s3://, gs://, hdfs://, file://)",
    )
    e.add_argument("--split", help="dataset split (default: 'test', or the only split)")
    e.add_argument(
        "--variant",
        choices=("words", "digits", "both"),
        default="both",
        help="numbers in captions as words ('three'), digits ('3') or both (default both)",
    )
    e.add_argument("--template", default=DEFAULT_TEMPLATE, help="caption template (see build --help)")
    add_embedding_flags(e)
    e.add_argument(
        "--reference",
        type=Path,
        help="JSON of quoted reference figures (top-k in percent) to show beside yours",
    )
    e.add_argument(
        "--no-per-image", action="store_true", help="leave per-image predictions out of results.json"
    )
    return ap


def _rules(args: argparse.Namespace, **kw) -> BuildRules:
    return BuildRules(
        short_side=args.short_side,
        image_format=args.image_format,
        jpeg_quality=args.jpeg_quality,
        template=CaptionTemplate(args.template),
        source=args.source,
        **kw,
    )


def _build(args: argparse.Namespace) -> int:
    from .build import build

    rules = _rules(
        args,
        classes=args.classes,
        min_count=args.min_count,
        max_count=args.max_count,
        min_share=args.min_share,
        min_object_size=args.min_object_size,
        min_visible=args.min_visible,
        difficult=args.difficult,
        crop=args.crop,
        balanced=args.balanced,
        per_count=args.per_count,
        seed=args.seed,
        other_classes=args.other_classes,
    )
    report = build(
        args.labels,
        args.images,
        args.out,
        rules,
        skip_bad=args.skip_bad,
        overwrite=args.overwrite,
        name=args.name,
        progress=not args.no_progress,
    )
    print(report.summary())
    return 0


def _import(args: argparse.Namespace) -> int:
    from .importer import import_annotations

    report = import_annotations(
        args.file,
        args.images,
        args.out,
        _rules(args),
        skip_bad=args.skip_bad,
        overwrite=args.overwrite,
        name=args.name,
        progress=not args.no_progress,
    )
    print(report.summary())
    return 0


def _eval(args: argparse.Namespace) -> int:
    from rs_clip_models.spec import ModelSpec
    from rs_formats.outputs import check_output

    from .evaluate import evaluate_model, load_counting
    from .report import load_reference, to_markdown, write_report

    out = output_dir(args)
    template = CaptionTemplate(args.template)
    variants = ("words", "digits") if args.variant == "both" else (args.variant,)
    config = eval_config(args)
    specs = [ModelSpec.parse(m) for m in args.model]
    check_output(out, [args.data, args.reference, *(s.path for s in specs)])
    reference = load_reference(args.reference) if args.reference else []
    data = load_counting(args.data, args.split)  # a bad dataset fails before any model is loaded
    cache = open_cache(args)
    results = []
    for spec in specs:
        log.info(
            "%s: RemoteCount on %s/%s (%d images)",
            spec.label,
            data.dataset.name,
            data.split,
            len(data.image_ids),
        )
        results += evaluate_model(
            spec,
            data.dataset,
            variants=variants,
            template=template,
            config=config,
            cache=cache,
            split=data.split,
        )
    files = write_report(results, out, reference=reference, per_image=not args.no_per_image)
    if cache.enabled:
        log.info("embedding cache %s: %d hits, %d misses", cache.root, cache.hits, cache.misses)
    print(to_markdown(results).split("## Top-1 accuracy per class")[0].rstrip())
    print(f"\nreport: {files['markdown']}  results: {files['json']}")
    return 0


def _command(args: argparse.Namespace) -> int:
    return {"build": _build, "import": _import, "eval": _eval}[args.command](args)


def main(argv: Sequence[str] | None = None) -> int:
    return run(PROG, parser(), _command, argv)


if __name__ == "__main__":
    sys.exit(main())
