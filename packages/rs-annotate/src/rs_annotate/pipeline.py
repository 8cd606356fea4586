"""``convert``: one source dataset on disk to an rs-dataset v1, in parallel, deterministically.

The parent lists the reader's items; worker processes turn each item into rows (read labels, decode,
check boxes, tile, resize, re-encode, caption, hash); the parent writes the rows in item order into
:class:`rs_formats.DatasetWriter`. At most ``4 x workers`` chunks are in flight, so memory stays
bounded, and because every random choice is seeded per image (B2C) the rows are byte-identical for any
number of workers.

Bad input (:class:`BadInput` from a reader or an image) aborts the run with its message, and the
writer leaves nothing at ``out``; with ``skip_bad`` the item is skipped, counted and listed in the
report, which is written next to the dataset as ``<out>.report.json`` (the dataset directory itself
holds only what the contract defines).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import sys
import time
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from rs_formats import DatasetWriter

from . import __version__
from .b2c import B2CConfig, boxes_to_captions
from .dedup import phash
from .imaging import (
    boxes_in_window,
    check_boxes,
    encode,
    load_image,
    resize,
    scale_boxes,
    target_size,
    tile_windows,
)
from .readers.base import BadInput, Reader, Sample, resolve_format

GENERATOR = f"rs-annotate {__version__}"


@dataclass(frozen=True)
class ConvertOptions:
    """Everything ``convert`` can be told; the CLI flags map one to one."""

    #: Worker processes; None = all cores. 1 runs in this process.
    workers: int | None = None
    #: Seed of the B2C captions (per image, whatever the worker count); replaces ``b2c.seed``.
    seed: int = 0
    #: Shorter side of stored images; None or 0 keeps the original size (re-encoding still applies).
    short_side: int | None = 256
    #: Store the original file bytes and size (no resize or re-encode; boxes in original pixels).
    keep_original: bool = False
    #: Format and quality of re-encoded images.
    image_format: str = "JPEG"
    jpeg_quality: int = 90
    #: Cut images larger than this into ``tile`` x ``tile`` windows before resizing (None: no tiling).
    tile: int | None = None
    tile_overlap: int = 200
    #: A box cut by a tile edge is kept when at least this fraction of its area is inside the tile.
    tile_min_visible: float = 0.5
    #: Skip (count and report) bad items instead of failing on the first.
    skip_bad: bool = False
    #: Boxes with zero area or wholly outside the image: "error" (the image is bad input) or "drop".
    bad_boxes: str = "error"
    #: Images (or tiles) without any object: skipped and counted, or kept with ``empty_caption``.
    keep_empty: bool = False
    empty_caption: str = "There is no labelled object in this image."
    #: Put every row in this split instead of the reader's.
    split: str | None = None
    #: Dataset name in the manifest (default: the output directory's name).
    name: str | None = None
    reader_options: dict[str, Any] = field(default_factory=dict)
    b2c: B2CConfig = field(default_factory=B2CConfig)
    chunksize: int = 4
    progress: bool = True
    overwrite: bool = False

    def __post_init__(self) -> None:
        if self.bad_boxes not in ("error", "drop"):
            raise ValueError(f"bad_boxes must be 'error' or 'drop', got {self.bad_boxes!r}")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        if self.tile is not None and self.tile > 0:
            tile_windows(self.tile, self.tile, self.tile, self.tile_overlap)  # validates size/overlap
        if not 0 < self.tile_min_visible <= 1:
            raise ValueError(f"tile_min_visible must be in (0, 1], got {self.tile_min_visible}")


#: Examples listed per reason in the report's ``skipped`` and ``dropped_by_reader`` tables.
MAX_EXAMPLES = 10


@dataclass
class ConvertReport:
    format: str
    src: str
    out: str
    items: int = 0
    rows: int = 0
    rows_per_split: dict[str, int] = field(default_factory=dict)
    rows_per_source: dict[str, int] = field(default_factory=dict)
    objects: int = 0
    bad: list[dict[str, Any]] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    clipped_boxes: int = 0
    #: Invalid boxes dropped by ``bad_boxes="drop"`` (zero area, wholly outside the image).
    dropped_boxes: int = 0
    dropped_by_tiling: int = 0
    #: Inputs the reader passed over while listing (stray files, videos without annotations' video, ...):
    #: ``{reason: {"count": n, "examples": [path, ...]}}``.
    skipped: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Boxes the source's own rules drop (VisDrone's ignored regions, SDD's lost rows), from
    #: ``Sample.meta["dropped"]``: ``{reason: {"count": n, "examples": [image_id, ...]}}``.
    dropped_by_reader: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0
    options: dict[str, Any] = field(default_factory=dict)
    #: The reader's own format name (``format`` may be an alias of it: rsicd -> ret3).
    reader: str = ""

    @property
    def n_bad(self) -> int:
        return len(self.bad)

    @property
    def n_skipped(self) -> int:
        return sum(v["count"] for v in self.skipped.values())

    @property
    def n_dropped_by_reader(self) -> int:
        return sum(v["count"] for v in self.dropped_by_reader.values())

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["n_bad"] = self.n_bad
        d["n_empty"] = len(self.empty)
        d["n_skipped"] = self.n_skipped
        d["n_dropped_by_reader"] = self.n_dropped_by_reader
        return d

    def summary(self) -> str:
        text = (f"{self.rows} rows from {self.items} items ({self.n_bad} bad, {len(self.empty)} without objects, "
                f"{self.clipped_boxes} boxes clipped, {self.dropped_boxes} dropped")
        if self.skipped:
            text += f"; {self.n_skipped} inputs skipped: {_by_reason(self.skipped)}"
        if self.dropped_by_reader:
            text += f"; {self.n_dropped_by_reader} boxes dropped by {self.format} rules: " \
                    f"{_by_reason(self.dropped_by_reader)}"
        return text + f") in {self.seconds:.1f} s"


def _by_reason(table: dict[str, dict[str, Any]]) -> str:
    ranked = sorted(table.items(), key=lambda kv: (-kv[1]["count"], kv[0]))  # most frequent first
    return ", ".join(f"{v['count']} {reason}" for reason, v in ranked)


def _tally(table: dict[str, dict[str, Any]], reason: str, count: int, example: str) -> None:
    entry = table.setdefault(reason, {"count": 0, "examples": []})
    entry["count"] += count
    if len(entry["examples"]) < MAX_EXAMPLES:
        entry["examples"].append(example)


def _skip_reason(problem: BadInput) -> str:
    return problem.message.removesuffix("; skipped")


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def report_path(out: str | Path) -> Path:
    out = Path(out)
    return out.parent / f"{out.name}.report.json"


# -- per-item work (runs in workers) ----------------------------------------------------------------

_STATE: dict[str, Any] = {}


def _init_worker(reader: Reader, opts: ConvertOptions, kind: str) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _STATE.update(reader=reader, opts=opts, kind=kind)


def _meta_json(sample: Sample, extra: dict[str, Any]) -> str:
    meta = dict(sample.meta)
    if "file" not in meta and sample.image_path is not None:
        meta["file"] = str(sample.image_path)
    meta.update(extra)
    return json.dumps(meta, sort_keys=True, default=str)


def _objects(boxes) -> list[dict[str, Any]]:
    return [{"label": b.label, "x0": b.x0, "y0": b.y0, "x1": b.x1, "y1": b.y1, "difficult": b.difficult}
            for b in boxes]


def process_sample(sample: Sample, opts: ConvertOptions, kind: str) -> dict[str, Any]:
    """One Sample to its rows (several when tiled) and its counters. Raises BadInput."""
    path = sample.image_path if sample.image_path is not None else f"<{sample.image_id}>"
    tiled = bool(opts.tile) and kind == "captions" and sample.captions is None
    draft = None
    if not tiled and not opts.keep_original and opts.short_side:
        draft = (opts.short_side, opts.short_side)
    loaded = load_image(sample.image_path, sample.image, draft_to=draft)
    width, height = loaded.size
    if sample.size is not None and tuple(sample.size) != (width, height):
        raise BadInput(path, f"labels are for a {sample.size[0]}x{sample.size[1]} image but the image is "
                             f"{width}x{height}")
    check = check_boxes(sample.boxes, width, height, path, drop_bad=opts.bad_boxes == "drop")
    result: dict[str, Any] = {"rows": [], "empty": [], "clipped": check.clipped, "dropped": check.dropped,
                              "dropped_by_tiling": 0, "image_id": sample.image_id,
                              "dropped_by_reader": dict(sample.meta.get("dropped") or {})}
    if tiled and max(width, height) > opts.tile:
        windows = tile_windows(width, height, opts.tile, opts.tile_overlap)
    else:
        windows = [(0, 0, width, height)]
    img = loaded.image
    # The decoded image may be smaller than the original (JPEG draft): map original pixels onto it.
    dx, dy = img.size[0] / width, img.size[1] / height
    for win in windows:
        x, y, w, h = win
        whole = len(windows) == 1
        boxes = check.boxes if whole else boxes_in_window(check.boxes, win, opts.tile_min_visible)
        if not whole:
            result["dropped_by_tiling"] += sum(
                1 for b in check.boxes if b.x1 > x and b.x0 < x + w and b.y1 > y and b.y0 < y + h) - len(boxes)
        image_id = sample.image_id if whole else f"{sample.image_id}__{x}_{y}"
        if opts.keep_original and whole and loaded.original_bytes is not None:
            data, out_w, out_h, view = loaded.original_bytes, width, height, img
            sx = sy = 1.0
        else:
            view = img if whole else img.crop((round(x * dx), round(y * dy), round((x + w) * dx),
                                               round((y + h) * dy)))
            out_w, out_h = (w, h) if opts.keep_original else target_size(w, h, opts.short_side)
            view = resize(view, (out_w, out_h))
            sx, sy = out_w / w, out_h / h
            if (whole and (out_w, out_h) == (width, height) and loaded.original_bytes is not None
                    and loaded.format == opts.image_format.upper().replace("JPG", "JPEG")):
                data = loaded.original_bytes  # already small and in the target format: no generation loss
            else:
                data = encode(view, opts.image_format, opts.jpeg_quality)
        boxes = scale_boxes(boxes, sx, sy, out_w, out_h)
        captions = sample.captions
        if kind == "captions" and captions is None:
            captions = boxes_to_captions(boxes, out_w, out_h, image_id, replace(opts.b2c, seed=opts.seed))
            if not captions:
                if not opts.keep_empty:
                    result["empty"].append(image_id)
                    continue
                captions = [opts.empty_caption] * opts.b2c.n_captions
        extra: dict[str, Any] = {"original_size": [width, height]}
        if not whole:
            extra["tile"] = [x, y, w, h]
        result["rows"].append({
            "image_id": image_id,
            "source": sample.source,
            "image": data,
            "width": out_w,
            "height": out_h,
            "captions": list(captions) if captions is not None else None,
            "objects": _objects(boxes),
            "label": sample.label,
            "count": sample.meta.get("count"),
            "count_label": sample.meta.get("count_label"),
            "phash": phash(view),
            "meta": _meta_json(sample, extra),
            "_split": opts.split or sample.split,
        })
    return result


def _work(item: Any) -> tuple[str, Any]:
    reader, opts, kind = _STATE["reader"], _STATE["opts"], _STATE["kind"]
    try:
        return "ok", process_sample(reader.read(item), opts, kind)
    except BadInput as exc:
        return "bad", exc


def _work_chunk(items: Sequence[Any]) -> list[tuple[str, Any]]:
    return [_work(item) for item in items]


def _results(reader: Reader, items: Sequence[Any], opts: ConvertOptions, kind: str,
             workers: int) -> Iterator[tuple[str, Any]]:
    """Per-item results in item order, computed by ``workers`` processes with bounded look-ahead."""
    if workers <= 1:
        _init_worker(reader, opts, kind)
        try:
            for item in items:
                yield _work(item)
        finally:
            _STATE.clear()
        return
    # forkserver: workers fork from a clean server process (no inherited threads or locks), and the
    # preloaded modules (imagehash pulls in scipy) are imported there once instead of once per worker.
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload([__name__, "imagehash", "scipy.fftpack"])
    else:
        ctx = mp.get_context("spawn")
    cs = max(1, opts.chunksize)
    chunks = [items[i:i + cs] for i in range(0, len(items), cs)]
    pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(reader, opts, kind))
    try:
        pending: deque = deque()
        for chunk in chunks:
            pending.append(pool.submit(_work_chunk, chunk))
            if len(pending) >= 4 * workers:
                yield from _get(pending.popleft())
        while pending:
            yield from _get(pending.popleft())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _get(future) -> list[tuple[str, Any]]:
    try:
        return future.result()
    except BrokenProcessPool:
        raise WorkerDied("a worker process died (killed, or out of memory?); nothing was written. "
                         "Try fewer --workers or tiling very large scenes") from None


class WorkerDied(RuntimeError):
    """A worker process ended abnormally (e.g. killed by the out-of-memory killer)."""


def convert(fmt: str, src: str | Path, out: str | Path, options: ConvertOptions | None = None,
            **overrides: Any) -> ConvertReport:
    """Convert ``src`` (a dataset in format ``fmt``) into the rs-dataset at ``out``.

    Keyword ``overrides`` replace fields of ``options`` (``convert("dota", src, out, workers=2)``).
    Returns the report, also written to ``<out>.report.json``.
    """
    opts = options or ConvertOptions()
    if overrides:
        opts = ConvertOptions(**{**asdict_shallow(opts), **overrides})
    started = time.perf_counter()
    out = Path(out)
    if out.exists() and not opts.overwrite:
        raise FileExistsError(f"{out}: already exists (use overwrite to replace it)")
    reader_cls, alias_defaults = resolve_format(fmt)
    reader_options = {**alias_defaults, **opts.reader_options}
    reader = reader_cls(src, **reader_options)
    kind = reader_cls.info.kind
    class_names = reader.class_names if kind == "classification" else None
    items = list(reader.items())
    if not items:
        skipped = f" ({len(reader.skipped)} input(s) skipped, e.g. {reader.skipped[0]})" if reader.skipped else ""
        raise BadInput(src, f"no {fmt} items found{skipped}")
    workers = min(opts.workers or os.cpu_count() or 1, len(items))
    report = ConvertReport(format=fmt, src=str(src), out=str(out), items=len(items),
                           options={**_options_json(opts), "reader_options": reader_options},
                           reader=reader_cls.info.name)
    for problem in reader.skipped:
        _tally(report.skipped, _skip_reason(problem), 1, _relative(problem.path, reader.root))
    sources: Counter[str] = Counter()
    objects_per_class: Counter[str] = Counter()
    from tqdm import tqdm

    bar = tqdm(total=len(items), desc=f"convert {fmt}", unit="img", disable=None if opts.progress else True,
               file=sys.stderr)
    with DatasetWriter(out, name=opts.name or out.name, kind=kind, generator=GENERATOR,
                       class_names=class_names, overwrite=opts.overwrite) as writer:
        results = _results(reader, items, opts, kind, workers)
        try:
            for status, value in results:
                bar.update(1)
                if status == "bad":
                    if not opts.skip_bad:
                        raise value
                    report.bad.append({"file": str(value.path), "line": value.line, "error": value.message})
                    continue
                report.clipped_boxes += value["clipped"]
                report.dropped_boxes += value["dropped"]
                report.dropped_by_tiling += value["dropped_by_tiling"]
                for reason, n in sorted(value["dropped_by_reader"].items()):
                    if n:
                        _tally(report.dropped_by_reader, reason, n, value["image_id"])
                report.empty.extend(value["empty"])
                for row in value["rows"]:
                    split = row.pop("_split")
                    writer.write(row, split=split)
                    report.rows += 1
                    report.rows_per_split[split] = report.rows_per_split.get(split, 0) + 1
                    sources[row["source"]] += 1
                    report.objects += len(row["objects"])
                    objects_per_class.update(o["label"] for o in row["objects"])
        finally:
            results.close()  # stops the worker pool now, also when failing
            bar.close()
        if report.rows == 0:
            raise BadInput(src, f"nothing to write: {len(items)} item(s), {report.n_bad} bad, "
                                f"{len(report.empty)} without objects, {report.n_skipped} input(s) skipped")
        report.rows_per_source = dict(sorted(sources.items()))
        for name, n in report.rows_per_source.items():
            writer.add_source(name, license=reader_cls.info.license, n_images=n, url=reader_cls.info.url)
        writer.stats["convert"] = {
            "format": fmt, "reader": report.reader, "items": report.items, "bad": report.n_bad,
            "empty": len(report.empty),
            "objects": report.objects, "objects_per_class": dict(sorted(objects_per_class.items())),
            "skipped": {k: v["count"] for k, v in report.skipped.items()},
            "dropped_by_reader": {k: v["count"] for k, v in report.dropped_by_reader.items()},
            "options": report.options,
        }
    report.seconds = round(time.perf_counter() - started, 3)
    write_report(report_path(out), report.to_json())
    return report


def asdict_shallow(opts: ConvertOptions) -> dict[str, Any]:
    return {f: getattr(opts, f) for f in opts.__dataclass_fields__}


def _options_json(opts: ConvertOptions) -> dict[str, Any]:
    d = asdict_shallow(opts)
    d["b2c"] = asdict(replace(opts.b2c, seed=opts.seed))
    for k in ("workers", "progress", "overwrite", "chunksize"):
        d.pop(k)  # how the run was executed, not what it produced
    return d


def write_report(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    os.replace(tmp, path)
