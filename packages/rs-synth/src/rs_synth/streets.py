"""Drone-view street and parking scenes (AU-AIR, VisDrone, CARPK, Stanford Drone): roads with vehicles
driving along them, people and bikes anywhere, or parking lots with rows of stalls."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from .scenes import CLASS_SCALE, Placement, Scene, _radius, _size_hw, draw_objects, make_ground
from .shapes import SHAPES, bar

ON_ROAD = frozenset(
    {"small vehicle", "large vehicle", "van", "bus", "trailer", "motorcycle", "tricycle", "awning tricycle"}
)


def _road_mask(rng, w: int, h: int, k: int) -> tuple[np.ndarray, list[tuple[np.ndarray, float, float]]]:
    """Mask of k straight roads and, per road, (centre, angle in degrees, width)."""
    m = Image.new("L", (w, h), 0)
    d = ImageDraw.Draw(m)
    roads = []
    side = min(w, h)
    for j in range(k):
        ang = (0.0 if j == 0 else 90.0) + rng.uniform(-20, 20)
        c = np.array([w / 2, h / 2]) + rng.uniform(-0.2, 0.2, 2) * (w, h)
        width = rng.uniform(0.16, 0.24) * side
        a = np.deg2rad(ang)
        dv = np.array([np.cos(a), np.sin(a)]) * 2 * max(w, h)
        d.polygon([tuple(p) for p in bar(*(c - dv), *(c + dv), width)], fill=255)
        roads.append((c, ang, width))
    return np.asarray(m) > 0, roads


def street_scene(
    rng: np.random.Generator,
    size: int | tuple[int, int],
    wants: list[str],
    scale: float = 1.0,
    spacing: float = 0.9,
    tries: int = 30,
) -> Scene:
    """Roads across grass, urban or concrete ground; road classes drive along a road, the rest stand
    anywhere. Objects that find no room are left out (the returned scene is the truth)."""
    h, w = _size_hw(size)
    ground = ("grass", "urban", "concrete")[int(rng.integers(3))]
    tex, wm = make_ground(rng, ground, h, w)
    road, roads = _road_mask(rng, w, h, int(rng.integers(1, 3)))
    tex[road] = (82, 82, 86)
    side = min(w, h)
    placed: list[tuple[Placement, float]] = []
    for cls in sorted(wants, key=lambda c: -CLASS_SCALE[c]):
        for _ in range(tries):
            size_px = CLASS_SCALE[cls] * side * scale * rng.uniform(0.85, 1.15)
            if cls in ON_ROAD:
                c, ang, width = roads[int(rng.integers(len(roads)))]
                a = np.deg2rad(ang)
                t, off = rng.uniform(-0.6, 0.6) * max(w, h), rng.uniform(-0.35, 0.35) * width
                cx = c[0] + t * np.cos(a) - off * np.sin(a)
                cy = c[1] + t * np.sin(a) + off * np.cos(a)
                angle = ang + (180.0 if off < 0 else 0.0) + rng.uniform(-4, 4)
            else:
                cx, cy, angle = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0, 360)
            p = Placement(cls, cx, cy, size_px, angle, SHAPES[cls](rng))
            r = _radius(p)
            if not (r < cx < w - r and r < cy < h - r):
                continue
            if all(np.hypot(cx - q.cx, cy - q.cy) >= spacing * (r + rq) for q, rq in placed):
                placed.append((p, r))
                break
    return draw_objects(rng, tex, wm, ground, None, [p for p, _ in placed], theme="street")


def parking_scene(
    rng: np.random.Generator, size: int | tuple[int, int], occupancy: float | None = None
) -> Scene:
    """A parking lot seen from above: rows of stalls, each holding a car with probability ``occupancy``."""
    h, w = _size_hw(size)
    tex, wm = make_ground(rng, "concrete", h, w)
    tex *= 0.62  # asphalt, not apron
    occ = rng.uniform(0.4, 0.95) if occupancy is None else occupancy
    car_len = h / rng.uniform(7.5, 9.5)
    stall_w = car_len * 0.62
    rows = int(h // (car_len * 1.5))
    y_top = (h - rows * car_len * 1.5) / 2
    placements = []
    for r in range(rows):
        y0 = y_top + r * car_len * 1.5
        x = stall_w * 0.6
        while x + stall_w < w - stall_w * 0.6:
            tex[int(y0) : int(y0 + car_len * 1.1), int(x) : int(x) + max(1, int(stall_w * 0.06))] = (
                225,
                225,
                225,
            )
            if rng.random() < occ:
                placements.append(
                    Placement(
                        "small vehicle",
                        x + stall_w / 2,
                        y0 + car_len * 0.55,
                        car_len * rng.uniform(0.88, 0.98),
                        90.0 + rng.choice([0.0, 180.0]) + rng.uniform(-3, 3),
                    )
                )
            x += stall_w
    return draw_objects(rng, tex, wm, "concrete", None, placements, theme="parking")
