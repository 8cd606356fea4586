"""``rs-count``: build a counting dataset, import a released one, evaluate models on it.

Follows the command-line convention of every rs-clip tool (:mod:`rs_formats.console`); ``eval`` takes
the flags every evaluating command shares (:mod:`rs_clip_eval.flags`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from rs_annotate.options import ConvertOptions
from rs_clip_eval.flags import (
    add_embedding_flags,
    add_model_flag,
    add_out_flag,
    eval_config,
    open_cache,
    output_dir,
)
from rs_formats.console import (
    add_completion,
    add_version,
    common_flags,
    run,
)
from rs_formats.flags import add_flags, from_args
from rs_formats.location import path_or_uri, uri_help
from rs_formats.outputs import OutputOptions

from .rules import BuildRules

PROG = "rs-count"
log = logging.getLogger("rs_count")


#: The settings ``import`` takes (the selection rules do not apply to released annotations).
IMPORT_SETTINGS = ("short_side", "image_format", "jpeg_quality", "template", "source")
#: How rs-annotate's conversion runs (its own flags); the rest of what it does is decided by :class:`BuildRules`.
CONVERSION_SETTINGS = ("workers", "engine", "address")


def _add_output_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--skip-bad",
        action="store_true",
        help="skip (and count) malformed labels, unknown classes, bad counts and missing images "
        "instead of stopping at the first one",
    )
    add_flags(p, OutputOptions)
    add_flags(p, ConvertOptions, only=CONVERSION_SETTINGS)


def _conversion(args: argparse.Namespace) -> ConvertOptions:
    return from_args(args, ConvertOptions, only=CONVERSION_SETTINGS)


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog=PROG,
        description="RemoteCount: can a CLIP model count 1-10 objects "
        "in aerial images? Build the benchmark, then evaluate models on it.",
    )
    add_version(ap, "rs-count")
    add_completion(ap)
    sub = ap.add_subparsers(dest="command", required=True)
    console = common_flags()

    b = sub.add_parser(
        "build",
        parents=[console],
        help="build a counting dataset from DOTA-format labelTxt files",
        description="Select images where one RemoteCount class appears 1-10 times (see README: "
        "selection rules) and write an rs-dataset of kind 'counting'.",
    )
    b.add_argument("--labels", required=True, type=Path, help="directory of DOTA labelTxt files (*.txt)")
    b.add_argument("--images", required=True, type=Path, help="directory of the matching images")
    b.add_argument("--out", required=True, type=path_or_uri, help=uri_help("the counting dataset to write"))
    add_flags(b, BuildRules)
    _add_output_flags(b)

    i = sub.add_parser(
        "import",
        parents=[console],
        help="import a released RemoteCount annotation file (CSV/JSON/JSONL)",
        description="Each record names an image and its class and count, or a caption.",
    )
    i.add_argument("file", type=Path, help="annotation file (.csv, .json or .jsonl)")
    i.add_argument("--images", required=True, type=Path, help="directory of the images it names")
    i.add_argument("--out", required=True, type=path_or_uri, help=uri_help("the counting dataset to write"))
    add_flags(i, BuildRules, only=IMPORT_SETTINGS, defaults={"source": "remotecount"})
    _add_output_flags(i)

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
        help=uri_help("counting dataset (rs-count build / import)"),
    )
    e.add_argument("--split", help="dataset split (default: 'test', or the only split)")
    e.add_argument(
        "--variant",
        choices=("words", "digits", "both"),
        default="both",
        help="numbers in captions as words ('three'), digits ('3') or both (default both)",
    )
    add_flags(e, BuildRules, only=("template",))
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


def _build(args: argparse.Namespace) -> int:
    from .build import build

    rules = from_args(args, BuildRules)
    report = build(
        args.labels,
        args.images,
        args.out,
        rules,
        skip_bad=args.skip_bad,
        progress=not args.no_progress,
        conversion=_conversion(args),
        **asdict(from_args(args, OutputOptions)),
    )
    print(report.summary())
    return 0


def _import(args: argparse.Namespace) -> int:
    from .importer import import_annotations

    report = import_annotations(
        args.file,
        args.images,
        args.out,
        from_args(args, BuildRules),
        skip_bad=args.skip_bad,
        progress=not args.no_progress,
        conversion=_conversion(args),
        **asdict(from_args(args, OutputOptions)),
    )
    print(report.summary())
    return 0


def _eval(args: argparse.Namespace) -> int:
    from rs_clip_models.spec import ModelSpec
    from rs_formats.outputs import check_output

    from .evaluate import evaluate_model, load_counting
    from .report import load_reference, to_markdown, write_report

    out = output_dir(args)
    template = from_args(args, BuildRules).template
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
