"""``ConvertReport``: what a ``convert`` run did, counted; written next to the dataset as
``<out>.report.json`` (the dataset directory itself holds only what the contract defines).

Nothing is dropped silently: bad items (with ``skip_bad``), images without objects, clipped and dropped
boxes, inputs the reader passed over while listing and boxes a format's own rules drop are all counted
here, by reason, with up to :data:`MAX_EXAMPLES` examples each.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rs_formats.atomic import atomic_write_text
from rs_formats.location import Location, path_or_location

from .types import BadInput

SUFFIX = ".report.json"
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
    #: How each split's images are stored: "original" pixels or "re-encoded" (ConvertOptions.keeps_original).
    pixels: dict[str, str] = field(default_factory=dict)
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
    #: Counting rows: ``{count_label: {count: rows}}``.
    counts: dict[str, dict[int, int]] = field(default_factory=dict)

    @property
    def n_bad(self) -> int:
        return len(self.bad)

    @property
    def n_skipped(self) -> int:
        return sum(v["count"] for v in self.skipped.values())

    @property
    def n_dropped_by_reader(self) -> int:
        return sum(v["count"] for v in self.dropped_by_reader.values())

    def add_skipped(self, problem: BadInput, root: Path) -> None:
        """An input the reader passed over while listing (its message without a trailing "; skipped")."""
        _tally(self.skipped, problem.message.removesuffix("; skipped"), 1, _relative(problem.path, root))

    def add_bad(self, problem: BadInput) -> None:
        self.bad.append(
            {"file": str(problem.path), "line": problem.line, "error": problem.message, "kind": problem.kind}
        )

    def add_dropped_by_reader(self, image_id: str, dropped: dict[str, int]) -> None:
        for reason, n in sorted(dropped.items()):
            if n:
                _tally(self.dropped_by_reader, reason, n, image_id)

    def add_row(self, split: str, row: dict[str, Any]) -> None:
        self.rows += 1
        self.rows_per_split[split] = self.rows_per_split.get(split, 0) + 1
        self.objects += len(row["objects"])
        if row.get("count") is not None:
            per_count = self.counts.setdefault(row["count_label"], {})
            per_count[row["count"]] = per_count.get(row["count"], 0) + 1

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["n_bad"] = self.n_bad
        d["n_empty"] = len(self.empty)
        d["n_skipped"] = self.n_skipped
        d["n_dropped_by_reader"] = self.n_dropped_by_reader
        return d

    def summary(self) -> str:
        text = (
            f"{self.rows} rows from {self.items} items ({self.n_bad} bad, {len(self.empty)} without objects, "
            f"{self.clipped_boxes} boxes clipped, {self.dropped_boxes} dropped"
        )
        if self.skipped:
            text += f"; {self.n_skipped} inputs skipped: {_by_reason(self.skipped)}"
        if self.dropped_by_reader:
            text += (
                f"; {self.n_dropped_by_reader} boxes dropped by {self.format} rules: "
                f"{_by_reason(self.dropped_by_reader)}"
            )
        return text + f") in {self.seconds:.1f} s"


def _by_reason(table: dict[str, dict[str, Any]]) -> str:
    ranked = sorted(table.items(), key=lambda kv: (-kv[1]["count"], kv[0]))  # most frequent first
    return ", ".join(f"{v['count']} {reason}" for reason, v in ranked)


def _tally(table: dict[str, dict[str, Any]], reason: str, count: int, example: str) -> None:
    entry = table.setdefault(reason, {"count": 0, "examples": []})
    entry["count"] += count
    if len(entry["examples"]) < MAX_EXAMPLES:
        entry["examples"].append(example)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def report_path(out: str | Path | Location) -> Path | Location:
    """Where the report of the dataset at ``out`` (a path or a URI) goes: ``<out>.report.json``, beside it."""
    out = path_or_location(out)
    return out.parent / f"{out.name}{SUFFIX}"


def reports_beside(paths: Sequence[str | Path]) -> list[str | Path]:
    """The paths that are the report of another path in ``paths`` (``X.report.json`` next to ``X``): what a
    shell glob over a folder of datasets (``/data/rs/eval/*``) picks up beside each dataset rs-annotate wrote."""
    given = {Path(p) for p in paths}

    def dataset_of(path: Path) -> Path:
        return path.with_name(path.name.removesuffix(SUFFIX))

    return [
        p
        for p in paths
        if Path(p).name.endswith(SUFFIX) and dataset_of(Path(p)) in given and Path(p).is_file()
    ]


def write_report(path: Path | Location, data: dict[str, Any]) -> None:
    """Write a report atomically (a reader never sees half of it; a store's object appears whole)."""
    text = json.dumps(data, indent=2, default=str) + "\n"
    if isinstance(path, Location):
        path.write_bytes(text.encode())
    else:
        atomic_write_text(path, text)
