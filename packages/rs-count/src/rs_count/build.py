"""Build a RemoteCount-style counting dataset from DOTA-format annotations.

Labels are read by rs-annotate's DOTA parser (:func:`rs_annotate.readers.dota.read_labeltxt`); the
selection rules are :mod:`rs_count.selection`'s and their settings :class:`rs_count.rules.BuildRules`.
Every rejection is counted by reason in the :class:`BuildReport`.

Selecting is cheap (label files and image headers) and needs every image before balancing (rule 5), so it
runs here; the chosen images then go through rs-annotate's conversion as a reader of their own
(:class:`CountingImages`): its workers (or its Ray engine) crop, re-encode and hash them, it writes the
rows atomically and writes its report beside the dataset. Stored images have their shorter side at most
``short_side`` (default 384, enough for every CLIP input size up to ViT-L-14-336; never enlarged); boxes
in ``objects`` are in stored pixels.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from rs_annotate import BadInput, ConvertOptions, ConvertReport, convert_reader
from rs_annotate.readers import Box, Reader, ReaderInfo, Sample
from rs_annotate.readers.dota import read_labeltxt
from rs_annotate.readers.files import listing
from rs_formats import check_new_dataset, console
from rs_formats.location import Location
from rs_formats.outputs import check_output

from .classes import REMOTECOUNT_CLASSES, known_classes
from .image_lookup import ImageIndex, image_size
from .rules import BuildRules
from .selection import REJECT_REASONS, balance, select

log = logging.getLogger(__name__)
#: Examples of bad inputs a report lists.
MAX_EXAMPLES = 10


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
    crop: tuple[int, int, int, int] | None  # (left, top, right, bottom) in pixels of the original image
    objects: list[Box]  # in pixels of the original image, inside the crop
    meta: dict[str, Any]
    caption: str | None = None  # a released caption (importer); generated from the template otherwise
    size: tuple[int, int] | None = None  # the original image's (width, height), when read


class CountingImages(Reader):
    """The chosen counting images as a reader of rs-annotate's conversion.

    The parent fills it (:meth:`add`, :meth:`refuse`); :meth:`items` balances the candidates (rule 5) and
    :meth:`read` turns one into a :class:`~rs_annotate.types.Sample` cut to its crop, with its count and
    caption, for the conversion's workers.
    """

    info = ReaderInfo(name="remotecount", title="RemoteCount", layout="", license="", url="", kind="counting")

    def __init__(self, images_dir: Path, rules: BuildRules, *, skip_bad: bool, license: str):
        super().__init__(images_dir)
        self.info = replace(self.info, license=license)
        self.generator = f"rs-count {console.package_version('rs-count')}"
        self.rules, self.skip_bad = rules, skip_bad
        self.inputs = 0
        self.rejected: dict[str, int] = {}
        self.candidates: list[Candidate] = []
        self.report = BuildReport(out="")

    def add(self, candidate: Candidate) -> None:
        self.candidates.append(candidate)

    def refuse(self, exc: BadInput) -> None:
        """A bad input: raised, or (with ``skip_bad``) listed in the conversion's report."""
        if not self.skip_bad:
            raise exc
        self.bad.append(exc)
        log.debug("skipped: %s", exc)

    def items(self) -> list[Candidate]:
        chosen, balanced_to = balance(self.candidates, lambda c: c.count, lambda c: c.image_id, self.rules)
        present = {c.count for c in self.candidates}
        rules = self.rules
        missing = [n for n in range(rules.min_count, rules.max_count + 1) if n not in present]
        if missing:
            log.warning("no image has count %s", ", ".join(map(str, missing)))
        self.report = BuildReport(
            out="",
            inputs=self.inputs,
            candidates=len(self.candidates),
            rejected=self.rejected,
            balanced_to=balanced_to,
            missing_counts=missing,
        )
        self.candidates = []  # the workers get the items, not a second copy
        return chosen

    def read(self, c: Candidate) -> Sample:
        crop = c.crop
        return Sample(
            image_id=c.image_id,
            source=self.rules.source,
            image_path=c.image,
            boxes=list(c.objects),
            captions=[c.caption or self.rules.template.caption(c.cls, c.count, "words")],
            split=self.rules.split,
            size=c.size,
            window=None if crop is None else (crop[0], crop[1], crop[2] - crop[0], crop[3] - crop[1]),
            meta={**c.meta, "count": c.count, "count_label": c.cls},
        )

    def build_report(self, converted: ConvertReport) -> BuildReport:
        """The selection's counts with what the conversion wrote and skipped."""
        per_count: Counter[int] = Counter()
        for counts in converted.counts.values():
            per_count.update(counts)
        bad = Counter(b["kind"] for b in converted.bad)
        return replace(
            self.report,
            out=converted.out,
            written=converted.rows,
            per_count=dict(sorted(per_count.items())),
            per_class={
                c: sum(converted.counts[c].values()) for c in REMOTECOUNT_CLASSES if c in converted.counts
            },
            bad=dict(bad),
            bad_examples=[_message(b) for b in converted.bad[:MAX_EXAMPLES]],
        )

    def manifest_stats(self, report: ConvertReport) -> dict[str, Any]:
        return {"rs_count": {"rules": self.rules.to_dict(), "report": self.build_report(report).to_dict()}}

    def write(
        self,
        out: Path | Location,
        *,
        name: str,
        overwrite: bool,
        progress: bool,
        conversion: ConvertOptions | None,
    ) -> BuildReport:
        """Convert the chosen images into the counting dataset at ``out``; returns the build's report."""
        rules = self.rules
        converted = convert_reader(
            self,
            out,
            conversion,
            short_side=rules.short_side,
            keep_original=False,
            image_format=rules.image_format,
            jpeg_quality=rules.jpeg_quality,
            # a degenerate polygon of an uncounted object has no box to store; counted ones are >= 8 px
            bad_boxes="drop",
            skip_bad=self.skip_bad,
            name=name,
            overwrite=overwrite,
            progress=progress,
        )
        report = self.build_report(converted)
        if report.bad:
            log.warning(
                "skipped %d bad inputs (%s)",
                sum(report.bad.values()),
                ", ".join(f"{k} {v}" for k, v in report.bad.items()),
            )
        return report


def _message(bad: dict[str, Any]) -> str:
    line = f":{bad['line']}" if bad["line"] is not None else ""
    return f"{bad['file']}{line}: {bad['error']}"


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
    conversion: ConvertOptions | None = None,
) -> BuildReport:
    """Select counting images from DOTA ``labelTxt`` files and write an rs-dataset of kind "counting".

    Args:
        labels_dir: the folder of DOTA ``*.txt`` label files.
        images_dir: the folder of their images (found by stem).
        out: the dataset directory, or its URI, to write (its report goes beside it, ``<out>.report.json``).
        rules: the selection and storage settings (default :class:`BuildRules`).
        skip_bad: count and report bad inputs instead of failing on the first.
        overwrite: replace an existing ``out``.
        name: the dataset's name (default ``remotecount-<source>``).
        progress: show progress bars (on a terminal only).
        conversion: how rs-annotate's conversion runs (``workers``, ``engine``, ``address``); the image
            settings come from ``rules``.

    Returns:
        The build's report: selection counts by rule, rows written per count and class, bad inputs.
    """
    rules = rules or BuildRules()
    labels_dir = Path(labels_dir)
    out = check_new_dataset(check_output(out, [labels_dir, images_dir], overwrite), overwrite)
    if not labels_dir.exists():
        raise BadInput(labels_dir, "label directory does not exist", kind="missing-labels")
    index, known = ImageIndex(images_dir, runs_on_ray(conversion)), known_classes(rules.other_classes)
    images = CountingImages(index.root, rules, skip_bad=skip_bad, license="see source dataset")
    label_files = [p for p in listing(labels_dir) if p.name.endswith(".txt")]
    if not label_files:
        raise BadInput(labels_dir, "holds no DOTA label files (*.txt)", kind="missing-labels")
    log.info("selecting from %d label files in %s", len(label_files), labels_dir)
    rejected: Counter[str] = Counter()
    bar = console.progress(
        label_files, total=len(label_files), desc=f"select {labels_dir}", unit="file", enabled=progress
    )
    for lf in bar:
        images.inputs += 1
        try:
            labels = read_labeltxt(lf)
            img = index.find(lf.stem, cited=lf)
            size = image_size(img)
            verdict = select(lf, labels.objects, size, rules, known)
        except BadInput as exc:
            images.refuse(exc)
            continue
        if isinstance(verdict, str):
            rejected[verdict] += 1
            continue
        cls, n, crop, objects = verdict
        meta = {"labels": lf.name, "image": img.name, "crop": crop}
        meta |= {"imagesource": labels.imagesource, "gsd": labels.gsd}
        images.add(Candidate(f"{rules.source}/{lf.stem}", img, cls, n, crop, objects, meta, size=size))
    images.rejected = {r: rejected[r] for r in REJECT_REASONS if rejected[r]}
    if not images.candidates:
        raise BadInput(
            labels_dir,
            "no image passes the selection rules (rejected: "
            + (", ".join(f"{k} {v}" for k, v in images.rejected.items()) or "none")
            + ")",
            kind="empty",
        )
    return images.write(
        out,
        name=name or f"remotecount-{rules.source}",
        overwrite=overwrite,
        progress=progress,
        conversion=conversion,
    )


def runs_on_ray(conversion: ConvertOptions | None) -> bool:
    """Whether the conversion runs on Ray, whose workers need the images by absolute paths."""
    return conversion is not None and conversion.engine == "ray"
