"""A small, strict reader for DOTA-format ``labelTxt`` files (v1.0; v1.5 and v2.0 use the same lines).

Format, one file per image (``P0001.txt`` for ``P0001.png``)::

    imagesource:GoogleEarth          optional header lines (any order, before the objects)
    gsd:0.146343590398               ground sample distance in metres, or "null"
    x1 y1 x2 y2 x3 y3 x4 y4 class difficult

Lines may end in CRLF or LF; blank lines and a UTF-8 byte-order mark are ignored. ``difficult`` is 0 or 1;
a line without it (some DOTA-derived sets drop the column) counts as 0. Anything else is an error that
names ``file:line``. rs-count reads this itself so that it depends on nothing but rs-formats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from rs_formats import FormatError


class BadInput(FormatError):
    """Input that breaks a rule, tagged with a ``kind`` so that ``--skip-bad`` can count it."""

    def __init__(self, path: str | Path, message: str, line: int | None = None, kind: str = "malformed"):
        super().__init__(path, message, line)
        self.kind = kind


@dataclass(frozen=True)
class DotaObject:
    polygon: tuple[float, ...]  # x1 y1 ... x4 y4, pixels of the original image
    label: str  # as written in the file
    difficult: bool
    line: int

    def box(self) -> tuple[float, float, float, float]:
        xs, ys = self.polygon[0::2], self.polygon[1::2]
        return min(xs), min(ys), max(xs), max(ys)

    def short_side(self) -> float:
        """Width of the oriented box: the mean length of its shorter pair of opposite edges."""
        pts = list(zip(self.polygon[0::2], self.polygon[1::2]))
        edges = [math.dist(pts[i], pts[(i + 1) % 4]) for i in range(4)]
        return min((edges[0] + edges[2]) / 2, (edges[1] + edges[3]) / 2)

    def visible_fraction(self, x0: float, y0: float, x1: float, y1: float) -> float:
        """Share of the polygon's area inside the rectangle (by its centre for a degenerate polygon)."""
        pts = list(zip(self.polygon[0::2], self.polygon[1::2]))
        area = polygon_area(pts)
        if area < 1e-9:
            cx, cy = sum(p[0] for p in pts) / 4, sum(p[1] for p in pts) / 4
            return float(x0 <= cx <= x1 and y0 <= cy <= y1)
        return min(1.0, polygon_area(clip_polygon(pts, x0, y0, x1, y1)) / area)


def polygon_area(pts: list[tuple[float, float]]) -> float:
    """Shoelace area (orientation-free)."""
    n = len(pts)
    return abs(sum(pts[i][0] * pts[(i + 1) % n][1] - pts[(i + 1) % n][0] * pts[i][1] for i in range(n))) / 2


def clip_polygon(pts: list[tuple[float, float]], x0: float, y0: float, x1: float,
                 y1: float) -> list[tuple[float, float]]:
    """Sutherland-Hodgman clip of a polygon to an axis-aligned rectangle."""
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

    for inside, cross in ((lambda p: p[0] >= x0, at_x(x0)), (lambda p: p[0] <= x1, at_x(x1)),
                          (lambda p: p[1] >= y0, at_y(y0)), (lambda p: p[1] <= y1, at_y(y1))):
        pts = clip(pts, inside, cross)
        if not pts:
            return []
    return pts


@dataclass
class DotaLabels:
    path: Path
    objects: list[DotaObject] = field(default_factory=list)
    imagesource: str | None = None
    gsd: float | None = None


def read_dota_labels(path: str | Path) -> DotaLabels:
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(path, f"not a UTF-8 text file ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise BadInput(path, f"cannot be read: {exc.strerror}", kind="missing-labels") from None
    out = DotaLabels(path)
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() in ("imagesource", "gsd"):
            if out.objects:
                raise BadInput(path, f"header line {key.strip()!r} after the first object", lineno)
            value = value.strip()
            if key.strip().lower() == "imagesource":
                out.imagesource = value or None
            else:
                out.gsd = _parse_gsd(value, path, lineno)
            continue
        out.objects.append(_parse_object(line, path, lineno))
    return out


def _parse_gsd(value: str, path: Path, lineno: int) -> float | None:
    if value.lower() in ("", "null", "none", "nan"):
        return None
    try:
        gsd = float(value)
    except ValueError:
        raise BadInput(path, f"gsd {value!r} is not a number", lineno) from None
    if not math.isfinite(gsd) or gsd <= 0:
        raise BadInput(path, f"gsd {value!r} must be a positive number", lineno)
    return gsd


def _parse_object(line: str, path: Path, lineno: int) -> DotaObject:
    tokens = line.split()
    if len(tokens) not in (9, 10):
        raise BadInput(path, f"expected 'x1 y1 x2 y2 x3 y3 x4 y4 class difficult' (10 fields), got "
                             f"{len(tokens)}: {line[:80]!r}", lineno)
    try:
        coords = tuple(float(t) for t in tokens[:8])
    except ValueError:
        bad = next(t for t in tokens[:8] if not _is_float(t))
        raise BadInput(path, f"coordinate {bad!r} is not a number (expected 'x1 y1 x2 y2 x3 y3 x4 y4 class "
                             "difficult')", lineno) from None
    if not all(math.isfinite(c) for c in coords):
        raise BadInput(path, "coordinates must be finite numbers", lineno)
    difficult = "0" if len(tokens) == 9 else tokens[9]
    if difficult not in ("0", "1"):
        raise BadInput(path, f"difficult must be 0 or 1, got {difficult!r}", lineno)
    return DotaObject(coords, tokens[8], difficult == "1", lineno)


def _is_float(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True
