"""RemoteCount's selection rules, as pure functions of one image's labels (and its size).

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
   is cut by the image or crop border (``cut-by-crop``), or is narrower than ``min_object_size`` pixels
   (shorter side of its oriented box, in the stored image) (``too-small``): in each case the true count
   is uncertain.
5. **Balance (optional).** ``balanced=True`` keeps the same number of images for every count present
   (the size of the smallest count group); ``per_count=N`` caps each count at N. Which images stay is a
   deterministic hash of ``seed`` and the image id.

The polygon geometry (area, clipping to the kept region) lives here because rule 1 is its only user; the
polygons themselves come from rs-annotate's DOTA parser (:class:`rs_annotate.readers.dota.DotaObject`).
We clip with Sutherland-Hodgman rather than depend on shapely: four corners against an axis-aligned
rectangle is a dozen lines.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from rs_annotate import BadInput
from rs_annotate.readers import Box
from rs_annotate.readers.dota import DotaObject
from rs_annotate.source_images import target_size

from .classes import REMOTECOUNT_CLASSES, class_name
from .rules import BuildRules

REJECT_REASONS = (
    "no-counting-class",
    "not-dominant",
    "class-not-selected",
    "count-out-of-range",
    "difficult",
    "cut-by-crop",
    "too-small",
)
Point = tuple[float, float]


def polygon_area(pts: Sequence[Point]) -> float:
    """Shoelace area (orientation-free)."""
    n = len(pts)
    return abs(sum(pts[i][0] * pts[(i + 1) % n][1] - pts[(i + 1) % n][0] * pts[i][1] for i in range(n))) / 2


def clip_polygon(pts: Sequence[Point], x0: float, y0: float, x1: float, y1: float) -> list[Point]:
    """Sutherland-Hodgman clip of a polygon to the rectangle ``[x0, x1] x [y0, y1]``."""

    def clip(poly, inside, cross):
        out = []
        for i, cur in enumerate(poly):
            prev = poly[i - 1]
            if inside(cur):
                if not inside(prev):
                    out.append(cross(prev, cur))
                out.append(cur)
            elif inside(prev):
                out.append(cross(prev, cur))
        return out

    def at_x(x):
        return lambda p, q: (x, p[1] + (q[1] - p[1]) * (x - p[0]) / (q[0] - p[0]))

    def at_y(y):
        return lambda p, q: (p[0] + (q[0] - p[0]) * (y - p[1]) / (q[1] - p[1]), y)

    poly = list(pts)
    for inside, cross in (
        (lambda p: p[0] >= x0, at_x(x0)),
        (lambda p: p[0] <= x1, at_x(x1)),
        (lambda p: p[1] >= y0, at_y(y0)),
        (lambda p: p[1] <= y1, at_y(y1)),
    ):
        poly = clip(poly, inside, cross)
        if not poly:
            return []
    return poly


def visible_fraction(obj: DotaObject, x0: float, y0: float, x1: float, y1: float) -> float:
    """Share of the object's polygon inside the rectangle (by its centre for a degenerate polygon)."""
    pts = obj.corners
    area = polygon_area(pts)
    if area < 1e-9:
        cx, cy = sum(p[0] for p in pts) / 4, sum(p[1] for p in pts) / 4
        return float(x0 <= cx <= x1 and y0 <= cy <= y1)
    return min(1.0, polygon_area(clip_polygon(pts, x0, y0, x1, y1)) / area)


def kept_region(size: tuple[int, int], crop: str) -> tuple[int, int, int, int] | None:
    """``(left, top, right, bottom)`` of the central square, or None to keep the whole image."""
    if crop != "center-square":
        return None
    w, h = size
    side = min(w, h)
    return (w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side


def select(
    labels_path: Path,
    objects: Sequence[DotaObject],
    size: tuple[int, int],
    rules: BuildRules,
    known: frozenset[str],
) -> tuple[str, int, tuple[int, int, int, int] | None, list[Box]] | str:
    """Rules 1-4 for one image: ``(class, count, crop, visible objects)`` or a reject reason.

    The objects' boxes are in pixels of the original image, clipped to the crop; the conversion scales
    them with the image.
    """
    crop = kept_region(size, rules.crop)
    cx0, cy0, cx1, cy1 = crop or (0, 0, *size)
    out_w, out_h = target_size(cx1 - cx0, cy1 - cy0, rules.short_side)
    sx, sy = out_w / (cx1 - cx0), out_h / (cy1 - cy0)
    visible = []  # (natural label, box clipped to the crop, difficult, cut by border, width in stored px)
    for obj in objects:
        label = class_name(obj.label)
        if label not in known:
            raise BadInput(
                labels_path,
                f"unknown class {obj.label!r} (known: DOTA v1.0-v2.0 classes; "
                "declare others with --other-classes)",
                obj.line,
                kind="unknown-class",
            )
        x0, y0, x1, y1 = obj.box()
        if x1 <= cx0 or x0 >= cx1 or y1 <= cy0 or y0 >= cy1:
            continue
        inside = visible_fraction(obj, cx0, cy0, cx1, cy1)
        if inside <= 1 - rules.min_visible:
            continue  # at most a corner of its oriented box reaches in
        box = (max(x0, cx0), max(y0, cy0), min(x1, cx1), min(y1, cy1))
        visible.append(
            (label, box, obj.difficult, inside < rules.min_visible, obj.short_side() * min(sx, sy))
        )
    counting = Counter(v[0] for v in visible if v[0] in REMOTECOUNT_CLASSES)
    if not counting:
        return "no-counting-class"
    ((cls, n_cls),) = counting.most_common(1)
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
    return cls, len(counted), crop, [Box(lab, *b, difficult=d) for lab, b, d, _, _ in visible]


T = TypeVar("T")


def balance(items: Sequence[T], count_of, id_of, rules: BuildRules) -> tuple[list[T], int | None]:
    """Rule 5: ``(kept items in id order, the cap per count or None)``; the choice hashes seed and id."""
    groups: dict[int, list[T]] = {}
    for item in items:
        groups.setdefault(count_of(item), []).append(item)
    cap = min(len(g) for g in groups.values()) if rules.balanced and groups else None
    if rules.per_count is not None:
        cap = rules.per_count if cap is None else min(cap, rules.per_count)
    if cap is None:
        return list(items), None

    def key(item: T) -> str:
        return hashlib.sha1(f"{rules.seed}:{id_of(item)}".encode()).hexdigest()

    kept = [c for g in groups.values() for c in sorted(g, key=key)[:cap]]
    return sorted(kept, key=id_of), cap
