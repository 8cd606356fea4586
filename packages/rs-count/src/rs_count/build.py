"""Build a RemoteCount-style counting dataset from DOTA-format annotations.

Selection rules (every rejection is counted by reason in the :class:`BuildReport`):

1. **Crop.** With ``crop="center-square"`` (default) each image is cut to its central square, the region
   a CLIP preprocess (resize shorter side, centre crop) actually shows the model. ``crop="none"`` keeps
   the whole image. An object counts as inside when at least ``min_visible`` (default 0.9) of its
   polygon's area is (oriented boxes of round or cross-shaped objects poke out at the corners), and as
   outside, dropped, when at most ``1 - min_visible`` is; anything between is cut by the border.
2. **A counted class dominates.** Among the visible objects of the 13 RemoteCount classes, the most
   frequent one must hold at least ``min_share`` (default 0.7, must be > 0.5 so at most one class
   qualifies) of them (``not-dominant``) and be one of ``classes`` (``class-not-selected``). Vehicles and
   other DOTA classes are ignored here; images without any RemoteCount object are ``no-counting-class``.
3. **Count 1..10.** Visible non-difficult instances of that class, between ``min_count`` and ``max_count``
   (``count-out-of-range``).
4. **Every counted instance is unambiguous.** The image is skipped if an instance of the class is marked
   difficult (``difficult``; with ``difficult="ignore"`` difficult instances are simply not counted),
   is cut by the image or crop border (``cut-by-crop``), or is narrower than ``min_object_size`` pixels (shorter
   side of its oriented box, in the stored image) (``too-small``): in each case the true count is uncertain.
5. **Balance (optional).** ``balanced=True`` keeps the same number of images for every count present
   (the size of the smallest count group); ``per_count=N`` caps each count at N. Which images stay is a
   deterministic hash of ``seed`` and the image id.

Stored images are re-encoded with their shorter side at most ``image_size`` (default 384, enough for
every CLIP input size up to ViT-L-14-336; never enlarged). Boxes in ``objects`` are in stored pixels.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rs_formats import DatasetWriter

from . import __version__
from .captions import DEFAULT, CaptionTemplate
from .classes import REMOTECOUNT_CLASSES, known_classes, normalize_class
from .dota import BadInput, read_dota_labels
from .images import ImageIndex, bounded_size, image_size, reencode

REJECT_REASONS = ("no-counting-class", "not-dominant", "class-not-selected", "count-out-of-range", "difficult",
                  "cut-by-crop", "too-small")


@dataclass(frozen=True)
class BuildRules:
    classes: tuple[str, ...] = REMOTECOUNT_CLASSES
    min_count: int = 1
    max_count: int = 10
    min_share: float = 0.7
    min_object_size: float = 8.0
    min_visible: float = 0.9
    difficult: str = "skip-image"  # or "ignore"
    crop: str = "center-square"  # or "none"
    image_size: int = 384
    image_format: str = "jpeg"  # or "png"
    jpeg_quality: int = 92
    balanced: bool = False
    per_count: int | None = None
    seed: int = 0
    other_classes: tuple[str, ...] = ()  # extra non-counted class names your labels may use
    source: str = "dota"
    split: str = "test"
    template: CaptionTemplate = DEFAULT

    def __post_init__(self) -> None:
        bad = [c for c in self.classes if normalize_class(c) not in REMOTECOUNT_CLASSES]
        if bad:
            raise ValueError(f"classes {bad} are not RemoteCount classes ({', '.join(REMOTECOUNT_CLASSES)})")
        object.__setattr__(self, "classes", tuple(normalize_class(c) for c in self.classes))
        if not 1 <= self.min_count <= self.max_count <= 10:
            raise ValueError(f"need 1 <= min_count <= max_count <= 10, got {self.min_count}..{self.max_count}")
        if not 0.5 < self.min_visible <= 1:
            raise ValueError(f"min_visible must be in (0.5, 1], got {self.min_visible}")
        if not 0.5 < self.min_share <= 1:
            raise ValueError(f"min_share must be in (0.5, 1] so that one class dominates, got {self.min_share}")
        if self.difficult not in ("skip-image", "ignore"):
            raise ValueError(f"difficult must be 'skip-image' or 'ignore', got {self.difficult!r}")
        if self.crop not in ("center-square", "none"):
            raise ValueError(f"crop must be 'center-square' or 'none', got {self.crop!r}")
        if self.image_format not in ("jpeg", "png"):
            raise ValueError(f"image_format must be 'jpeg' or 'png', got {self.image_format!r}")
        if self.image_size < 16:
            raise ValueError(f"image_size must be at least 16 px, got {self.image_size}")
        if self.per_count is not None and self.per_count < 1:
            raise ValueError(f"per_count must be positive, got {self.per_count}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["template"] = self.template.text
        return d


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
        lines = [f"{self.out}: {self.written} images from {self.inputs} inputs "
                 f"({self.candidates} passed the rules)"]
        lines.append("  per count: " + ", ".join(f"{k}:{v}" for k, v in sorted(self.per_count.items())))
        if self.balanced_to is not None:
            lines.append(f"  balanced to {self.balanced_to} per count")
        if self.missing_counts:
            lines.append(f"  warning: no image has count {', '.join(map(str, self.missing_counts))}")
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


class _BadLog:
    """Raise bad input, or (with skip_bad) count it and keep the first few messages for the report."""

    def __init__(self, report: BuildReport, skip_bad: bool):
        self.report, self.skip_bad = report, skip_bad

    def __call__(self, exc: BadInput) -> None:
        if not self.skip_bad:
            raise exc
        self.report.bad[exc.kind] = self.report.bad.get(exc.kind, 0) + 1
        if len(self.report.bad_examples) < 10:
            self.report.bad_examples.append(str(exc))


def select(labels_path: Path, objects_raw, size: tuple[int, int], rules: BuildRules,
           known: frozenset[str]) -> tuple[str, int, tuple[int, int, int, int] | None, list[dict]] | str:
    """Apply the selection rules to one image: ``(class, count, crop, stored objects)`` or a reject reason."""
    w, h = size
    if rules.crop == "center-square":
        side = min(w, h)
        crop: tuple[int, int, int, int] | None = ((w - side) // 2, (h - side) // 2,
                                                  (w - side) // 2 + side, (h - side) // 2 + side)
    else:
        crop = None
    cx0, cy0, cx1, cy1 = crop or (0, 0, w, h)
    _, _, scale = bounded_size(cx1 - cx0, cy1 - cy0, rules.image_size)
    visible = []  # (natural label, box in stored px, difficult, cut by border, width in stored px)
    for obj in objects_raw:
        label = normalize_class(obj.label)
        if label not in known:
            raise BadInput(labels_path, f"unknown class {obj.label!r} (known: DOTA v1.0-v2.0 classes; "
                           "declare others with --other-classes)", obj.line, kind="unknown-class")
        x0, y0, x1, y1 = obj.box()
        if x1 <= cx0 or x0 >= cx1 or y1 <= cy0 or y0 >= cy1:
            continue
        inside = obj.visible_fraction(cx0, cy0, cx1, cy1)
        if inside <= 1 - rules.min_visible:
            continue  # at most a corner of its oriented box reaches in
        box = tuple(float(min(max(v - o, 0.0), lim - o) * scale)
                    for v, o, lim in ((x0, cx0, cx1), (y0, cy0, cy1), (x1, cx0, cx1), (y1, cy0, cy1)))
        visible.append((label, box, obj.difficult, inside < rules.min_visible, obj.short_side() * scale))
    counting = Counter(v[0] for v in visible if v[0] in REMOTECOUNT_CLASSES)
    if not counting:
        return "no-counting-class"
    (cls, n_cls), = counting.most_common(1)
    if n_cls / sum(counting.values()) < rules.min_share:
        return "not-dominant"
    if cls not in rules.classes:
        return "class-not-selected"
    mine = [v for v in visible if v[0] == cls]
    counted = [v for v in mine if not v[2]]
    if not rules.min_count <= len(counted) <= rules.max_count:
        return "count-out-of-range"
    if rules.difficult == "skip-image" and len(counted) < len(mine):
        return "difficult"
    if any(v[3] for v in counted):
        return "cut-by-crop"
    if any(v[4] < rules.min_object_size for v in counted):
        return "too-small"
    objects = [{"label": lab, "x0": b[0], "y0": b[1], "x1": b[2], "y1": b[3], "difficult": d}
               for lab, b, d, _, _ in visible]
    return cls, len(counted), crop, objects


def _hash_key(seed: int, image_id: str) -> str:
    return hashlib.sha1(f"{seed}:{image_id}".encode()).hexdigest()


def balance(cands: Sequence[Candidate], rules: BuildRules, report: BuildReport) -> list[Candidate]:
    groups: dict[int, list[Candidate]] = {}
    for c in cands:
        groups.setdefault(c.count, []).append(c)
    report.missing_counts = [n for n in range(rules.min_count, rules.max_count + 1) if n not in groups]
    cap = None
    if rules.balanced and groups:
        cap = min(len(g) for g in groups.values())
    if rules.per_count is not None:
        cap = rules.per_count if cap is None else min(cap, rules.per_count)
    if cap is None:
        return list(cands)
    report.balanced_to = cap
    kept = [c for g in groups.values() for c in sorted(g, key=lambda c: _hash_key(rules.seed, c.image_id))[:cap]]
    return sorted(kept, key=lambda c: c.image_id)


def build(labels_dir: str | Path, images_dir: str | Path, out: str | Path, rules: BuildRules | None = None, *,
          skip_bad: bool = False, overwrite: bool = False, name: str | None = None,
          progress: bool = True) -> BuildReport:
    """Select counting images from DOTA ``labelTxt`` files and write an rs-dataset of kind "counting"."""
    from tqdm.auto import tqdm

    rules = rules or BuildRules()
    labels_dir, out = Path(labels_dir), Path(out)
    if not labels_dir.is_dir():
        raise BadInput(labels_dir, "label directory does not exist", kind="missing-labels")
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out}: already exists (pass --overwrite to replace it)")
    index = ImageIndex(images_dir)
    known = known_classes(rules.other_classes)
    report = BuildReport(out=str(out))
    bad = _BadLog(report, skip_bad)
    label_files = sorted(labels_dir.glob("*.txt"))
    if not label_files:
        raise BadInput(labels_dir, "holds no DOTA label files (*.txt)", kind="missing-labels")
    rejected: Counter[str] = Counter()
    cands: list[Candidate] = []
    for lf in tqdm(label_files, desc="select", unit="file", disable=not progress):
        report.inputs += 1
        try:
            labels = read_dota_labels(lf)
            img = index.find(lf.stem, cited=lf)
            verdict = select(lf, labels.objects, image_size(img), rules, known)
        except BadInput as exc:
            bad(exc)
            continue
        if isinstance(verdict, str):
            rejected[verdict] += 1
            continue
        cls, n, crop, objects = verdict
        meta = {"labels": lf.name, "image": img.name, "crop": crop, "imagesource": labels.imagesource,
                "gsd": labels.gsd}
        cands.append(Candidate(f"{rules.source}/{lf.stem}", img, cls, n, crop, objects, meta))
    report.rejected = {r: rejected[r] for r in REJECT_REASONS if rejected[r]}
    report.candidates = len(cands)
    if not cands:
        raise BadInput(labels_dir, "no image passes the selection rules (rejected: "
                       + (", ".join(f"{k} {v}" for k, v in report.rejected.items()) or "none") + ")",
                       kind="empty")
    write_dataset(cands, out, rules, report, bad, name=name or f"remotecount-{rules.source}",
                  overwrite=overwrite, progress=progress, sources=[{"name": rules.source,
                                                                    "license": "see source dataset",
                                                                    "n_images": report.inputs}])
    return report


def write_dataset(cands: Sequence[Candidate], out: Path, rules: BuildRules, report: BuildReport, bad: _BadLog,
                  *, name: str, overwrite: bool, progress: bool, sources: list[dict]) -> None:
    from tqdm.auto import tqdm

    chosen = balance(cands, rules, report)
    per_count: Counter[int] = Counter()
    per_class: Counter[str] = Counter()
    with DatasetWriter(out, name=name, kind="counting", generator=f"rs-count {__version__}",
                       sources=sources, overwrite=overwrite) as writer:
        for c in tqdm(chosen, desc="write", unit="img", disable=not progress):
            try:
                data, w, h = reencode(c.image, c.crop, rules.image_size, rules.image_format, rules.jpeg_quality)
            except BadInput as exc:
                bad(exc)
                continue
            writer.write({
                "image_id": c.image_id, "source": rules.source, "image": data, "width": w, "height": h,
                "captions": [c.caption or rules.template.caption(c.cls, c.count, "words")],
                "objects": c.objects, "count": c.count, "count_label": c.cls, "meta": json.dumps(c.meta),
            }, split=rules.split)
            per_count[c.count] += 1
            per_class[c.cls] += 1
        report.written = sum(per_count.values())
        if report.written == 0:
            raise BadInput(out, "no image could be written (all were bad)", kind="empty")
        report.per_count = dict(sorted(per_count.items()))
        report.per_class = {k: per_class[k] for k in REMOTECOUNT_CLASSES if per_class[k]}
        writer.stats["rs_count"] = {"rules": rules.to_dict(), "report": report.to_dict()}
