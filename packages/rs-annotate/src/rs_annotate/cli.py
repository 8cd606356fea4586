"""``rs-annotate``: convert, merge, dedup, stats, show, validate, datasets, export.

The rs-clip command-line convention (:mod:`rs_formats.console`): ``--version``; ``-v``/``-q``/``--no-progress``
on every command; what a command produces (the written path, ``stats`` JSON, the ``datasets`` listing,
``validate``'s problems) goes to stdout, what it says about its work to stderr through logging. Exit
status 0 done, 1 the job failed (``validate`` found problems, a worker process died), 2 usage or input
error as one line ``rs-annotate: error: FILE[:LINE]: message``, 130 interrupted.

Spellings kept for one release, with a warning: the positional OUT of ``convert``/``merge``/``dedup``/
``show`` (now ``--out``), ``--max-side`` (now ``--short-side``) and upper-case ``--image-format`` values.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rs_formats import console
from rs_formats.wording import count_phrase

from . import api
from .arguments import PROG, build_parser
from .b2c import B2CConfig
from .report import report_path, reports_beside
from .workers import WorkerDied

log = logging.getLogger(__name__)


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


def _reader_options(args: argparse.Namespace) -> dict[str, Any]:
    options = _options(args.opt)
    if args.follow_symlinks:
        options["follow_symlinks"] = True
    return options


def _output(args: argparse.Namespace) -> str:
    """OUT from ``--out``, or from the deprecated positional; both, or neither, is a usage error."""
    legacy = getattr(args, "legacy_out", None)
    if legacy is not None:
        if args.out is not None:
            args.parser.error(
                f"give the output location once, as --out (not also as the positional {legacy!r})"
            )
        log.warning("the positional OUT is deprecated and will be removed; use --out %s", legacy)
        return legacy
    if args.out is None:
        args.parser.error("the following arguments are required: --out")
    return args.out


def _datasets_only(paths: list[str], what: str) -> list[str]:
    """Dataset arguments without the reports a shell glob picks up beside the datasets (``/data/rs/eval/*``
    matches each ``X.report.json`` next to ``X``): those are left out, and counted. Any other path stays,
    and is an error if it is not a dataset."""
    reports = reports_beside(paths)
    if reports:
        log.info(
            "%s: left out %s (X.report.json beside dataset X), e.g. %s",
            what,
            count_phrase(len(reports), "report file"),
            reports[0],
        )
    return [p for p in paths if p not in reports]


def _inputs_and_output(args: argparse.Namespace) -> tuple[list[str], str]:
    """merge/dedup: with ``--out`` every positional is an input; without it the last one is OUT (deprecated)."""
    if args.out is None and len(args.datasets) >= 2:
        args.legacy_out = args.datasets.pop()
    return _datasets_only(args.datasets, "inputs"), _output(args)


def _convert(args: argparse.Namespace) -> int:
    out = _output(args)
    b2c = B2CConfig(center=args.center, many_prob=args.many_prob, subset=args.subset)
    opts = api.ConvertOptions(
        workers=args.workers,
        engine=args.engine,
        address=args.address,
        retries=args.retries,
        seed=args.seed,
        short_side=args.short_side or None,
        keep_original=args.keep_original,
        image_format=args.image_format,
        jpeg_quality=args.jpeg_quality,
        bands=args.bands,
        value_range=tuple(args.value_range) if args.value_range else None,
        nodata=args.nodata,
        tile=args.tile,
        tile_overlap=args.tile_overlap,
        tile_min_visible=args.tile_min_visible,
        skip_bad=args.skip_bad,
        bad_boxes=args.bad_boxes,
        keep_empty=args.keep_empty,
        split=args.split,
        name=args.name,
        reader_options=_reader_options(args),
        b2c=b2c,
        overwrite=args.overwrite,
    )
    report = api.convert(args.format, args.src, out, opts)
    log.info("%s: %s", out, report.summary())
    if report.n_bad or report.skipped or report.dropped_by_reader:
        log.warning(
            "%d bad item(s), %d skipped input(s), %d box(es) dropped by the format's rules: examples in %s",
            report.n_bad,
            report.n_skipped,
            report.n_dropped_by_reader,
            report_path(out),
        )
    print(out)
    return 0


def _merge(args: argparse.Namespace) -> int:
    inputs, out = _inputs_and_output(args)
    r = api.merge(inputs, out, name=args.name, overwrite=args.overwrite)
    log.info("%s: %d rows from %d datasets", out, r["rows"], len(inputs))
    print(out)
    return 0


def _dedup(args: argparse.Namespace) -> int:
    inputs, out = _inputs_and_output(args)
    against = _datasets_only(args.against, "--against")
    r = api.dedup(
        inputs,
        out,
        against=against,
        against_splits=args.against_split,
        threshold=args.threshold,
        keep=args.keep,
        name=args.name,
        overwrite=args.overwrite,
    )
    per_set = ", ".join(f"{n} of {Path(path).name}" for path, n in r["contaminated_per_against"].items() if n)
    log.info(
        "%s: kept %d of %d rows (%d duplicates, %d matching test images%s); report: %s",
        out,
        r["rows_out"],
        r["rows_in"],
        r["removed_duplicates"],
        r["removed_contaminated"],
        f": {per_set}" if per_set else "",
        report_path(out),
    )
    print(out)
    return 0


def _stats(args: argparse.Namespace) -> int:
    print(json.dumps(api.stats(args.dataset, plots=args.plots), indent=2))
    return 0


def _show(args: argparse.Namespace) -> int:
    print(
        api.show(
            args.dataset, _output(args), n=args.n, split=args.split, columns=args.columns, seed=args.seed
        )
    )
    return 0


def _validate(args: argparse.Namespace) -> int:
    r = api.validate(args.dataset, decode=not args.no_decode)
    for problem in r["problems"]:
        print(problem)
    constant = f", {r['n_constant']} decode to a constant image" if not args.no_decode else ""
    print(f"{args.dataset}: {r['rows']} rows, {r['n_problems']} problem(s){constant}")
    return 0 if r["ok"] else 1


def _datasets(args: argparse.Namespace) -> int:
    for info in api.datasets():
        print(f"{info['name']}  [{info['kind']}]  {info['title']}")
        if info["aliases"]:
            names = ", ".join(
                f"{a} ({' '.join(f'{k}={v}' for k, v in o.items())})" if o else a
                for a, o in info["aliases"].items()
            )
            print(f"  aliases: {names}")
        print(f"  source:  {info['url']}")
        print(f"  license: {info['license']}")
        print("  layout:")
        for line in info["layout"].splitlines():
            print(f"    {line}")
        if info["options"]:
            print("  options (--opt NAME=VALUE):")
            for o in info["options"]:
                choices = f" [{'|'.join(_option_text(c) for c in o['choices'])}]" if o["choices"] else ""
                print(f"    {o['name']}={_option_text(o['default'])}  {o['help']}{choices}")
        print()
    return 0


def _export(args: argparse.Namespace) -> int:
    out = _output(args)
    if args.layout == "webdataset":
        r = api.export_webdataset(
            args.dataset,
            out,
            splits=args.split,
            shard_size=args.shard_size,
            captions=args.captions,
            overwrite=args.overwrite,
        )
    else:
        r = api.export_csv(
            args.dataset,
            out,
            splits=args.split,
            separator=args.separator,
            relative=args.relative,
            overwrite=args.overwrite,
        )
    for split, done in r["splits"].items():
        log.info("%s/%s: %s", out, split, ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in done.items()))
    print(out)
    return 0


def _option_text(value: Any) -> str:
    """A reader option's value as ``--opt`` takes it (lists comma-separated, JSON words for None and booleans)."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value)


COMMANDS = {
    "convert": _convert,
    "merge": _merge,
    "dedup": _dedup,
    "stats": _stats,
    "show": _show,
    "validate": _validate,
    "datasets": _datasets,
    "export": _export,
}


def _run(args: argparse.Namespace) -> int:
    try:
        return COMMANDS[args.command](args)
    except WorkerDied as exc:  # the input was fine; the run was not
        log.error("%s", exc)
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    return console.run(PROG, build_parser(), _run, argv)


if __name__ == "__main__":
    sys.exit(main())
