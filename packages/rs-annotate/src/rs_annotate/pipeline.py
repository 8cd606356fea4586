"""``convert``: one source dataset on disk to an rs-dataset, in parallel, deterministically.

The parent lists the reader's items; worker processes (:mod:`.workers`, or Ray Data on a cluster with
``engine="ray"``: :mod:`.ray_engine`) turn each item into rows (:mod:`.sample_rows`: read labels, decode,
check boxes, tile, resize, re-encode, caption, hash); the parent writes the rows in item order into
:class:`rs_formats.DatasetWriter`. Because every random choice is seeded per image (B2C), the rows are
byte-identical for any number of workers and either engine.

Bad input (:class:`BadInput` from a reader or an image) aborts the run with its message, and the
writer leaves nothing at ``out``; with ``skip_bad`` the item is skipped, counted and listed in the
report (:mod:`.report`), which is written next to the dataset as ``<out>.report.json``.

:func:`run` is the same conversion over a reader the caller made (another package's selection of
samples, such as rs-count's RemoteCount images): the listing, the workers, the writing and the report are
the ones every format gets.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from rs_formats import DatasetWriter, atomic, check_new_dataset, console
from rs_formats.location import Location
from rs_formats.outputs import check_output

from .options import ConvertOptions
from .readers.base import Reader, resolve_format
from .report import ConvertReport, report_path, write_report
from .sample_rows import SampleRows
from .types import BadInput
from .version import GENERATOR
from .workers import results

log = logging.getLogger(__name__)


def convert(
    fmt: str,
    src: str | Path,
    out: str | Path | Location,
    options: ConvertOptions | None = None,
    **overrides: Any,
) -> ConvertReport:
    """Convert ``src`` (a dataset in format ``fmt``) into the rs-dataset at ``out`` (a path or a URI).

    Keyword ``overrides`` replace fields of ``options`` (``convert("dota", src, out, workers=2)``).
    Returns the report, also written to ``<out>.report.json``.
    """
    opts = replace(options or ConvertOptions(), **overrides)
    started = time.perf_counter()
    out = _check_out(out, src, opts)
    reader_cls, alias_defaults = resolve_format(fmt)
    root = _ray_engine().source_root(src) if opts.engine == "ray" else src
    reader = reader_cls(root, **{**alias_defaults, **opts.reader_options})
    return run(reader, out, opts, fmt=fmt, src=src, started=started)


def run(
    reader: Reader,
    out: str | Path | Location,
    opts: ConvertOptions,
    *,
    fmt: str | None = None,
    src: str | Path | None = None,
    started: float | None = None,
) -> ConvertReport:
    """Convert what ``reader`` lists into the rs-dataset at ``out`` (``fmt`` and ``src`` as the user named
    them, for messages and the report; by default the reader's name and root)."""
    started = time.perf_counter() if started is None else started
    fmt, src = fmt or reader.name, src if src is not None else reader.root
    out = _check_out(out, src, opts)
    kind = reader.kind
    items = list(reader.items())
    if not items:
        skipped = (
            f" ({len(reader.skipped)} input(s) skipped, e.g. {reader.skipped[0]})" if reader.skipped else ""
        )
        raise BadInput(src, f"no {fmt} items found{skipped}")
    workers = min(opts.workers or os.cpu_count() or 1, len(items))
    log.debug("%s: %d %s items, engine %s", src, len(items), fmt, opts.engine)
    # Every reader option as used, defaults included: what the rows depend on.
    report = ConvertReport(
        format=fmt,
        src=str(src),
        out=str(out),
        items=len(items),
        options={**opts.to_json(), "reader_options": reader.options},
        reader=reader.name,
    )
    for problem in reader.skipped:
        report.add_skipped(problem, reader.root)
    for problem in reader.bad:
        report.add_bad(problem)
    sources: Counter[str] = Counter()
    objects_per_class: Counter[str] = Counter()
    origin: dict[str, str] = {}  # image_id -> the file it came from, to name both files of a duplicate
    bar = console.progress(
        total=len(items), desc=f"convert {fmt} -> {out.name}", unit="img", enabled=opts.progress
    )
    with (
        atomic.naming(out),
        DatasetWriter(
            out,
            name=opts.name or out.name,
            kind=kind,
            generator=reader.generator or GENERATOR,
            class_names=reader.class_names if kind == "classification" else None,
            overwrite=opts.overwrite,
        ) as writer,
    ):
        per_item = (
            _ray_engine().results(reader, items, opts, kind)
            if opts.engine == "ray"
            else results(reader, items, opts, kind, workers)
        )
        try:
            for status, value in per_item:
                bar.update(1)
                if status == "ok":
                    status, value = _unique(value, origin, reader.root)
                if status == "bad":
                    if not opts.skip_bad:
                        raise value
                    report.add_bad(value)
                    continue
                report.clipped_boxes += value.clipped
                report.dropped_boxes += value.dropped
                report.dropped_by_tiling += value.dropped_by_tiling
                report.add_dropped_by_reader(value.image_id, value.dropped_by_reader)
                report.empty.extend(value.empty)
                for split, row in value.rows:
                    writer.write(row, split=split)
                    report.add_row(split, row)
                    sources[row["source"]] += 1
                    objects_per_class.update(o["label"] for o in row["objects"])
        finally:
            per_item.close()  # stops the worker pool now, also when failing
            bar.close()
        if report.rows == 0:
            raise BadInput(
                src,
                f"nothing to write: {len(items)} item(s), {report.n_bad} bad, "
                f"{len(report.empty)} without objects, {report.n_skipped} input(s) skipped",
            )
        report.rows_per_source = dict(sorted(sources.items()))
        report.pixels = {
            split: "original" if opts.keeps_original(kind, split) else "re-encoded"
            for split in sorted(report.rows_per_split)
        }
        for name, n in report.rows_per_source.items():
            writer.add_source(name, license=reader.license, n_images=n, url=reader.url)
        writer.stats["convert"] = {
            "format": fmt,
            "reader": report.reader,
            "items": report.items,
            "bad": report.n_bad,
            "empty": len(report.empty),
            "pixels": report.pixels,
            "objects": report.objects,
            "objects_per_class": dict(sorted(objects_per_class.items())),
            "skipped": {k: v["count"] for k, v in report.skipped.items()},
            "dropped_by_reader": {k: v["count"] for k, v in report.dropped_by_reader.items()},
            "options": report.options,
        }
        writer.stats.update(reader.manifest_stats(report))
    report.seconds = round(time.perf_counter() - started, 3)
    write_report(report_path(out), report.to_json())
    return report


def _check_out(out: str | Path | Location, src: str | Path, opts: ConvertOptions) -> Path | Location:
    """``out`` once it is safe to write: never the source, inside it or around it (:func:`check_output`), and
    replaced only when asked."""
    return check_new_dataset(check_output(out, [src], opts.overwrite), opts.overwrite)


def _ray_engine():
    from . import ray_engine  # Ray is imported only when asked for

    return ray_engine


def _unique(rows: SampleRows, origin: dict[str, str], root: Path) -> tuple[str, Any]:
    """("ok", rows) when their image ids are new, else ("bad", BadInput naming both files)."""
    file = str(root / rows.file)
    for _, row in rows.rows:
        first = origin.get(row["image_id"])
        if first is not None:
            return "bad", BadInput(
                file,
                f"image id {row['image_id']!r} is also the id of an image from {first}: "
                "ids must be unique within a dataset",
                kind="duplicate",
            )
    for _, row in rows.rows:
        origin[row["image_id"]] = file
    return "ok", rows
