"""Build a RemoteCount-style counting dataset from DOTA-format annotations.

Labels are read by rs-annotate's DOTA parser (:func:`rs_annotate.readers.dota.read_labeltxt`); the
selection rules are :mod:`rs_count.selection`'s and their settings :class:`rs_count.rules.BuildRules`.
Every rejection is counted by reason in the :class:`BuildReport`. Stored images are re-encoded with their
shorter side at most ``short_side`` (default 384, enough for every CLIP input size up to ViT-L-14-336;
never enlarged); boxes in ``objects`` are in stored pixels. Writing is atomic (rs_formats.DatasetWriter).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rs_annotate import BadInput
from rs_annotate.readers.dota import read_labeltxt
from rs_annotate.readers.files import listing
from rs_formats import DatasetWriter, console
from rs_formats.outputs import check_output

from .classes import REMOTECOUNT_CLASSES, known_classes
from .images import ImageIndex, image_size, reencode
from .rules import BuildRules
from .selection import REJECT_REASONS, balance, select

log = logging.getLogger(__name__)


@dataclass
class BuildReport:
    out: str
    inputs: int = 0  # label files or annotation rows read
    candidates: int = 0  # passed the selection rules (before balancing)
    written: int = 0
    per_count: dict[int, int] = field(default_factory=dict)
    per_class: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)  # selection rule -> images
    bad: dict[str, int] = field(default_factory=dict)  # bad-input kind -> files (only with skip_bad)
    bad_examples: list[str] = field(default_factory=list)
    balanced_to: int | None = None
    missing_counts: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        lines = [
            f"{self.out}: {self.written} images from {self.inputs} inputs "
            f"({self.candidates} passed the rules)"
        ]
        lines.append("  per count: " + ", ".join(f"{k}:{v}" for k, v in sorted(self.per_count.items())))
        if self.balanced_to is not None:
            lines.append(f"  balanced to {self.balanced_to} per count")
        if self.missing_counts:
            lines.append(f"  no image has count {', '.join(map(str, self.missing_counts))}")
        if self.rejected:
            lines.append("  rejected: " + ", ".join(f"{k} {v}" for k, v in self.rejected.items()))
        if self.bad:
            lines.append("  skipped bad inputs: " + ", ".join(f"{k} {v}" for k, v in self.bad.items()))
            lines.extend(f"    {m}" for m in self.bad_examples)
        return "\n".join(lines)


@dataclass(frozen=True)
class Candidate:
    image_id: str
    image: Path
    cls: str
    count: int
    crop: tuple[int, int, int, int] | None
    objects: list[dict[str, Any]]  # boxes in stored pixels
    meta: dict[str, Any]
    caption: str | None = None  # a released caption (importer); generated from the template otherwise


class BadLog:
    """Raise bad input, or (with skip_bad) count it by kind and keep the first few messages for the report."""

    def __init__(self, report: BuildReport, skip_bad: bool):
        self.report, self.skip_bad = report, skip_bad

    def __call__(self, exc: BadInput) -> None:
        if not self.skip_bad:
            raise exc
        kind = exc.kind or "malformed"
        self.report.bad[kind] = self.report.bad.get(kind, 0) + 1
        if len(self.report.bad_examples) < 10:
            self.report.bad_examples.append(str(exc))
        log.debug("skipped: %s", exc)


def build(
    labels_dir: str | Path,
    images_dir: str | Path,
    out: str | Path,
    rules: BuildRules | None = None,
    *,
    skip_bad: bool = False,
    overwrite: bool = False,
    name: str | None = None,
    progress: bool = True,
) -> BuildReport:
    """Select counting images from DOTA ``labelTxt`` files and write an rs-dataset of kind "counting"."""
    rules = rules or BuildRules()
    labels_dir, out = Path(labels_dir), check_output(out, [labels_dir, images_dir], overwrite)
    if not labels_dir.exists():
        raise BadInput(labels_dir, "label directory does not exist", kind="missing-labels")
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out}: already exists (pass --overwrite to replace it)")
    index = ImageIndex(images_dir)
    known = known_classes(rules.other_classes)
    report = BuildReport(out=str(out))
    bad = BadLog(report, skip_bad)
    label_files = [p for p in listing(labels_dir) if p.name.endswith(".txt")]
    if not label_files:
        raise BadInput(labels_dir, "holds no DOTA label files (*.txt)", kind="missing-labels")
    log.info("selecting from %d label files in %s", len(label_files), labels_dir)
    rejected: Counter[str] = Counter()
    cands: list[Candidate] = []
    for lf in _bar(label_files, f"select {labels_dir}", "file", progress):
        report.inputs += 1
        try:
            labels = read_labeltxt(lf)
            img = index.find(lf.stem, cited=lf)
            verdict = select(lf, labels.objects, image_size(img), rules, known)
        except BadInput as exc:
            bad(exc)
            continue
        if isinstance(verdict, str):
            rejected[verdict] += 1
            continue
        cls, n, crop, objects = verdict
        meta = {
            "labels": lf.name,
            "image": img.name,
            "crop": crop,
            "imagesource": labels.imagesource,
            "gsd": labels.gsd,
        }
        cands.append(Candidate(f"{rules.source}/{lf.stem}", img, cls, n, crop, objects, meta))
    report.rejected = {r: rejected[r] for r in REJECT_REASONS if rejected[r]}
    report.candidates = len(cands)
    if not cands:
        raise BadInput(
            labels_dir,
            "no image passes the selection rules (rejected: "
            + (", ".join(f"{k} {v}" for k, v in report.rejected.items()) or "none")
            + ")",
            kind="empty",
        )
    write_dataset(
        cands,
        out,
        rules,
        report,
        bad,
        name=name or f"remotecount-{rules.source}",
        overwrite=overwrite,
        progress=progress,
        sources=[{"name": rules.source, "license": "see source dataset", "n_images": report.inputs}],
    )
    return report


def _bar(items, desc: str, unit: str, enabled: bool):
    return console.progress(items, total=len(items), desc=desc, unit=unit, enabled=enabled)


def write_dataset(
    cands: Sequence[Candidate],
    out: Path,
    rules: BuildRules,
    report: BuildReport,
    bad: BadLog,
    *,
    name: str,
    overwrite: bool,
    progress: bool,
    sources: list[dict],
) -> None:
    """Balance (rule 5), re-encode and write the chosen candidates; fills the report's counts."""
    chosen, report.balanced_to = balance(cands, lambda c: c.count, lambda c: c.image_id, rules)
    present = {c.count for c in cands}
    report.missing_counts = [n for n in range(rules.min_count, rules.max_count + 1) if n not in present]
    if report.missing_counts:
        log.warning("no image has count %s", ", ".join(map(str, report.missing_counts)))
    per_count: Counter[int] = Counter()
    per_class: Counter[str] = Counter()
    with DatasetWriter(
        out,
        name=name,
        kind="counting",
        generator=f"rs-count {console.package_version('rs-count')}",
        sources=sources,
        overwrite=overwrite,
    ) as writer:
        for c in _bar(chosen, f"write {out}", "img", progress):
            try:
                data, w, h = reencode(
                    c.image, c.crop, rules.short_side, rules.image_format, rules.jpeg_quality
                )
            except BadInput as exc:
                bad(exc)
                continue
            writer.write(
                {
                    "image_id": c.image_id,
                    "source": rules.source,
                    "image": data,
                    "width": w,
                    "height": h,
                    "captions": [c.caption or rules.template.caption(c.cls, c.count, "words")],
                    "objects": c.objects,
                    "count": c.count,
                    "count_label": c.cls,
                    "meta": json.dumps(c.meta),
                },
                split=rules.split,
            )
            per_count[c.count] += 1
            per_class[c.cls] += 1
        report.written = sum(per_count.values())
        if report.written == 0:
            raise BadInput(out, "no image could be written (all were bad)", kind="empty")
        report.per_count = dict(sorted(per_count.items()))
        report.per_class = {k: per_class[k] for k in REMOTECOUNT_CLASSES if per_class[k]}
        writer.stats["rs_count"] = {"rules": rules.to_dict(), "report": report.to_dict()}
    if report.bad:
        log.warning(
            "skipped %d bad inputs (%s)",
            sum(report.bad.values()),
            ", ".join(f"{k} {v}" for k, v in report.bad.items()),
        )
