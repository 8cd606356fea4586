"""Top-down object shapes, one small function per class.

A shape is a list of :class:`Part` polygons in the object's local frame: x runs along the object's long
axis, y across it, and every point lies in the square [-0.5, 0.5]^2 (unit = the object's size in pixels).
That bound is what lets the scene sampler place objects by their bounding circle (radius <= 0.71 size).

Parts are drawn in order. ``mask=False`` parts are context that belongs to the picture but not to the
object's footprint (the water under a bridge, a ship's wake): they are left out of the instance mask,
the axis-aligned box and the oriented box.

Colours are chosen for recognisability at 64 px, not photo-realism: each class has its own colour and
silhouette (white cross = plane, grey pointed hull on water = ship, white disc with a dark ring = storage
tank, red oval = ground track field, cyan rectangle = swimming pool, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Color = tuple[int, int, int]


@dataclass(frozen=True)
class Part:
    pts: np.ndarray  # (N, 2) float, local frame
    color: Color
    mask: bool = True


def _jit(rng: np.random.Generator, c: Color, a: int = 14) -> Color:
    d = rng.integers(-a, a + 1, 3).tolist()
    return (min(255, max(0, c[0] + d[0])), min(255, max(0, c[1] + d[1])), min(255, max(0, c[2] + d[2])))


def rect(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


def ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 24, a0: float = 0.0,
            a1: float = 2 * np.pi) -> np.ndarray:
    t = np.linspace(a0, a1, n, endpoint=not np.isclose(a1 - a0, 2 * np.pi))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)


def circle(cx: float, cy: float, r: float, n: int = 24) -> np.ndarray:
    return ellipse(cx, cy, r, r, n)


def stadium(length: float, width: float, n: int = 12) -> np.ndarray:
    """Rounded rectangle (running-track outline) centred at 0, long axis x."""
    r = width / 2
    cx = length / 2 - r
    right = ellipse(cx, 0, r, r, n, -np.pi / 2, np.pi / 2)
    left = ellipse(-cx, 0, r, r, n, np.pi / 2, 3 * np.pi / 2)
    return np.concatenate([right, left])


def bar(x0: float, y0: float, x1: float, y1: float, w: float) -> np.ndarray:
    """A thick line segment as a rectangle."""
    d = np.array([x1 - x0, y1 - y0], dtype=np.float64)
    n = np.array([-d[1], d[0]]) / (np.hypot(*d) + 1e-12) * (w / 2)
    return np.array([[x0 + n[0], y0 + n[1]], [x1 + n[0], y1 + n[1]],
                     [x1 - n[0], y1 - n[1]], [x0 - n[0], y0 - n[1]]])


def outline(x0: float, y0: float, x1: float, y1: float, w: float) -> list[np.ndarray]:
    """Four bars tracing a rectangle (court lines)."""
    return [rect(x0, y0, x1, y0 + w), rect(x0, y1 - w, x1, y1), rect(x0, y0, x0 + w, y1),
            rect(x1 - w, y0, x1, y1)]


WHITE: Color = (240, 240, 240)
ASPHALT: Color = (70, 70, 74)
WATER: Color = (38, 78, 128)


def plane(rng):
    c = _jit(rng, (236, 236, 240), 8)
    return [
        Part(np.array([[0.5, 0], [0.42, -0.05], [-0.44, -0.05], [-0.48, 0], [-0.44, 0.05], [0.42, 0.05]]), c),
        Part(np.array([[0.12, -0.05], [-0.14, -0.5], [-0.24, -0.5], [-0.08, -0.05],
                       [-0.08, 0.05], [-0.24, 0.5], [-0.14, 0.5], [0.12, 0.05]]), c),
        Part(np.array([[-0.34, -0.03], [-0.44, -0.2], [-0.49, -0.2], [-0.45, 0], [-0.49, 0.2],
                       [-0.44, 0.2], [-0.34, 0.03]]), c),
    ]


def helicopter(rng):
    body = _jit(rng, (72, 96, 58))
    return [
        Part(ellipse(0.12, 0, 0.2, 0.12), body),
        Part(rect(-0.48, -0.03, 0.0, 0.03), body),
        Part(rect(-0.48, -0.1, -0.42, 0.1), body),
        Part(bar(-0.2, -0.35, 0.44, 0.35, 0.04), (25, 25, 25)),
        Part(bar(-0.2, 0.35, 0.44, -0.35, 0.04), (25, 25, 25)),
    ]


def ship(rng):
    hull = _jit(rng, (105, 105, 115), 18)
    deck = _jit(rng, (230, 228, 220), 8)
    return [
        Part(np.array([[-0.5, -0.02], [-0.5, 0.02], [-0.2, 0.09], [-0.2, -0.09]]), (120, 160, 190), mask=False),
        Part(np.array([[0.5, 0], [0.32, -0.1], [-0.3, -0.1], [-0.34, 0], [-0.3, 0.1], [0.32, 0.1]]), hull),
        Part(rect(-0.26, -0.07, -0.08, 0.07), deck),
        Part(rect(0.0, -0.05, 0.26, 0.05), _jit(rng, (150, 70, 55), 20)),
    ]


def storage_tank(rng):
    return [
        Part(circle(0, 0, 0.5, 28), _jit(rng, (228, 226, 214), 8)),
        Part(circle(0, 0, 0.4, 28), (70, 70, 72)),
        Part(circle(0, 0, 0.34, 28), _jit(rng, (205, 205, 198), 8)),
        Part(circle(0, 0, 0.06, 10), (90, 90, 90)),
    ]


_CAR_COLORS: list[Color] = [(200, 30, 30), (30, 60, 190), (235, 235, 235), (20, 20, 22), (160, 160, 168),
                            (220, 180, 20)]


def small_vehicle(rng):
    c = _CAR_COLORS[int(rng.integers(len(_CAR_COLORS)))]
    return [
        Part(rect(-0.5, -0.22, 0.5, 0.22), _jit(rng, c, 10)),
        Part(rect(0.12, -0.18, 0.3, 0.18), (30, 40, 55)),
        Part(rect(-0.38, -0.17, -0.26, 0.17), (30, 40, 55)),
    ]


def large_vehicle(rng):
    return [
        Part(rect(-0.5, -0.14, 0.26, 0.14), _jit(rng, (236, 230, 200), 12)),
        Part(rect(0.3, -0.13, 0.5, 0.13), _jit(rng, (40, 110, 170), 30)),
    ]


def harbor(rng):
    concrete = _jit(rng, (176, 172, 160), 10)
    parts = [Part(rect(-0.5, -0.5, 0.5, 0.5), WATER, mask=False),
             Part(rect(-0.5, -0.5, -0.22, 0.5), concrete)]
    k = int(rng.integers(3, 5))
    for y in np.linspace(-0.38, 0.38, k):
        parts.append(Part(rect(-0.22, y - 0.04, 0.48, y + 0.04), concrete))
    parts.append(Part(rect(-0.22, -0.42, 0.48, -0.36), concrete))
    return parts


def bridge(rng):
    deck = _jit(rng, (150, 148, 140), 10)
    return [
        Part(rect(-0.32, -0.5, 0.32, 0.5), WATER, mask=False),
        Part(rect(-0.5, -0.11, 0.5, 0.11), deck),
        Part(rect(-0.5, -0.11, 0.5, -0.08), (225, 225, 220)),
        Part(rect(-0.5, 0.08, 0.5, 0.11), (225, 225, 220)),
        Part(rect(-0.5, -0.01, 0.5, 0.01), (230, 200, 60)),
    ]


def roundabout(rng):
    return [
        Part(circle(0, 0, 0.5, 32), ASPHALT),
        Part(circle(0, 0, 0.3, 28), (238, 238, 238)),
        Part(circle(0, 0, 0.27, 28), _jit(rng, (60, 150, 60))),
    ]


def tennis_court(rng):
    surface = [(48, 130, 78), (44, 92, 168), (170, 80, 60)][int(rng.integers(3))]
    parts = [Part(rect(-0.5, -0.28, 0.5, 0.28), _jit(rng, surface, 10)),
             Part(rect(-0.4, -0.19, 0.4, 0.19), _jit(rng, (60, 140, 190) if surface[2] < 100 else (40, 130, 80)))]
    parts += [Part(p, WHITE) for p in outline(-0.4, -0.19, 0.4, 0.19, 0.02)]
    parts += [Part(rect(-0.01, -0.24, 0.01, 0.24), WHITE), Part(rect(-0.22, -0.005, 0.22, 0.005), WHITE),
              Part(rect(-0.22, -0.19, -0.21, 0.19), WHITE), Part(rect(0.21, -0.19, 0.22, 0.19), WHITE)]
    return parts


def basketball_court(rng):
    wood = _jit(rng, (205, 120, 55), 12)
    parts = [Part(rect(-0.5, -0.3, 0.5, 0.3), wood)]
    parts += [Part(p, WHITE) for p in outline(-0.47, -0.27, 0.47, 0.27, 0.02)]
    parts += [Part(rect(-0.01, -0.27, 0.01, 0.27), WHITE), Part(circle(0, 0, 0.1, 16), WHITE),
              Part(circle(0, 0, 0.08, 16), (150, 40, 40)),
              Part(rect(-0.47, -0.09, -0.3, 0.09), (150, 40, 40)), Part(rect(0.3, -0.09, 0.47, 0.09), (150, 40, 40))]
    return parts


def baseball_diamond(rng):
    grass = _jit(rng, (70, 150, 60))
    dirt = _jit(rng, (196, 150, 100), 10)
    home = (-0.5, 0.0)
    fan = np.concatenate([[home], ellipse(home[0], 0, 1.0, 1.0, 16, -np.pi / 4, np.pi / 4)])
    fan[:, 1] *= 0.7  # keep within [-0.5, 0.5] across
    infield = ellipse(-0.5, 0, 0.62, 0.62, 12, -np.pi / 4, np.pi / 4)
    infield = np.concatenate([[home], infield])
    infield[:, 1] *= 0.7
    diamond = np.array([[-0.5, 0], [-0.25, -0.18], [0.0, 0], [-0.25, 0.18]])
    return [Part(fan, grass), Part(infield, dirt), Part(diamond, (90, 165, 70)),
            Part(circle(-0.25, 0, 0.04, 10), dirt)]


def soccer_field(rng):
    g1, g2 = _jit(rng, (50, 140, 60), 8), (70, 165, 75)
    parts = [Part(rect(-0.5, -0.33, 0.5, 0.33), g1)]
    parts += [Part(rect(x, -0.33, x + 0.1, 0.33), g2) for x in np.arange(-0.5, 0.5, 0.2)]
    parts += [Part(p, WHITE) for p in outline(-0.46, -0.29, 0.46, 0.29, 0.015)]
    parts += [Part(rect(-0.0075, -0.29, 0.0075, 0.29), WHITE)]
    parts += [Part(p, WHITE) for p in outline(-0.46, -0.14, -0.33, 0.14, 0.015)]
    parts += [Part(p, WHITE) for p in outline(0.33, -0.14, 0.46, 0.14, 0.015)]
    parts += [Part(circle(0, 0, 0.09, 20), WHITE), Part(circle(0, 0, 0.075, 20), g1)]
    return parts


def ground_track_field(rng):
    return [
        Part(stadium(1.0, 0.56), _jit(rng, (182, 68, 56), 12)),
        Part(stadium(0.84, 0.4), (235, 225, 220)),
        Part(stadium(0.8, 0.36), _jit(rng, (62, 150, 70))),
        Part(rect(-0.2, -0.14, 0.2, 0.14), (75, 165, 80)),
    ]


def swimming_pool(rng):
    water = _jit(rng, (40, 190, 225), 10)
    parts = [Part(rect(-0.5, -0.3, 0.5, 0.3), (232, 232, 226)), Part(rect(-0.44, -0.24, 0.44, 0.24), water)]
    parts += [Part(rect(-0.42, y - 0.006, 0.42, y + 0.006), (20, 110, 170)) for y in (-0.12, 0.0, 0.12)]
    return parts


def airport(rng):
    apron = _jit(rng, (150, 150, 146), 8)
    parts = [Part(rect(-0.5, -0.07, 0.5, 0.07), (52, 52, 56)),
             Part(rect(-0.3, 0.12, 0.3, 0.42), apron),
             Part(rect(-0.38, 0.07, 0.38, 0.12), (95, 95, 98)),
             Part(rect(-0.26, 0.36, 0.26, 0.48), _jit(rng, (200, 205, 215), 8))]
    parts += [Part(rect(x, -0.006, x + 0.04, 0.006), WHITE) for x in np.arange(-0.44, 0.44, 0.08)]
    parts += [Part(rect(-0.49, y - 0.005, -0.46, y + 0.005), WHITE) for y in (-0.045, -0.015, 0.015, 0.045)]
    return parts


def chimney(rng):
    return [Part(bar(0, 0, 0.5, 0.05, 0.1), (30, 30, 30), mask=False),
            Part(circle(0, 0, 0.09, 14), _jit(rng, (190, 80, 70))), Part(circle(0, 0, 0.05, 10), (20, 20, 20))]


def dam(rng):
    return [Part(rect(-0.5, -0.5, 0.5, -0.05), WATER, mask=False),
            Part(ellipse(0, 0.35, 0.5, 0.45, 20, np.pi, 2 * np.pi), _jit(rng, (196, 194, 186), 8)),
            Part(ellipse(0, 0.35, 0.47, 0.37, 20, np.pi, 2 * np.pi), (120, 150, 110), mask=False)]


def expressway_service_area(rng):
    parts = [Part(rect(-0.5, -0.35, 0.5, 0.35), (120, 120, 124)),
             Part(rect(-0.15, -0.3, 0.2, -0.1), _jit(rng, (200, 120, 90), 20))]
    for i, x in enumerate(np.arange(-0.44, 0.46, 0.09)):
        c = _CAR_COLORS[(i * 7 + int(rng.integers(6))) % len(_CAR_COLORS)]
        parts.append(Part(rect(x, 0.08, x + 0.05, 0.22), c))
    return parts


def expressway_toll_station(rng):
    parts = [Part(rect(-0.5, -0.25, 0.5, 0.25), ASPHALT), Part(rect(-0.1, -0.3, 0.1, 0.3), (210, 60, 50))]
    parts += [Part(rect(-0.06, y - 0.02, 0.06, y + 0.02), WHITE) for y in np.linspace(-0.2, 0.2, 5)]
    return parts


def golf_field(rng):
    fair = _jit(rng, (120, 190, 90), 10)
    blob = ellipse(0, 0, 0.5, 0.34, 20) * (1 + 0.08 * np.sin(np.linspace(0, 6 * np.pi, 20)))[:, None]
    blob = np.clip(blob, -0.5, 0.5)
    return [Part(blob, fair), Part(circle(0.28, 0.05, 0.09, 16), (70, 170, 70)),
            Part(ellipse(-0.1, 0.2, 0.09, 0.05, 12), (235, 220, 170)),
            Part(ellipse(0.1, -0.2, 0.08, 0.05, 12), (235, 220, 170)),
            Part(ellipse(-0.3, -0.05, 0.06, 0.04, 12), (235, 220, 170))]


def overpass(rng):
    return [Part(rect(-0.5, -0.09, 0.5, 0.09), ASPHALT), Part(rect(-0.14, -0.5, 0.1, 0.5), (30, 30, 30), mask=False),
            Part(rect(-0.1, -0.5, 0.1, 0.5), _jit(rng, (150, 150, 150), 8)),
            Part(rect(-0.1, -0.5, -0.08, 0.5), WHITE), Part(rect(0.08, -0.5, 0.1, 0.5), WHITE)]


def crossroad(rng):
    return [Part(rect(-0.5, -0.1, 0.5, 0.1), ASPHALT), Part(rect(-0.1, -0.5, 0.1, 0.5), ASPHALT)] + [
        Part(rect(x, -0.08, x + 0.015, 0.08), WHITE) for x in (-0.16, -0.12, 0.12, 0.16)]


def t_junction(rng):
    return [Part(rect(-0.5, -0.1, 0.5, 0.1), ASPHALT), Part(rect(-0.1, 0.0, 0.1, 0.5), ASPHALT),
            Part(rect(-0.5, -0.006, -0.12, 0.006), WHITE), Part(rect(0.12, -0.006, 0.5, 0.006), WHITE)]


def parking_lot(rng):
    parts = [Part(rect(-0.5, -0.35, 0.5, 0.35), (96, 96, 100))]
    for row in (-0.3, 0.02):
        for j, x in enumerate(np.arange(-0.46, 0.44, 0.1)):
            parts.append(Part(rect(x, row, x + 0.006, row + 0.26), WHITE))
            if (j * 5 + int(rng.integers(3))) % 3:
                c = _CAR_COLORS[int(rng.integers(len(_CAR_COLORS)))]
                parts.append(Part(rect(x + 0.02, row + 0.02, x + 0.08, row + 0.24), c))
    return parts


def stadium_(rng):
    return [Part(ellipse(0, 0, 0.5, 0.4, 28), _jit(rng, (180, 180, 190), 10)),
            Part(ellipse(0, 0, 0.42, 0.32, 28), (140, 40, 40)),
            Part(ellipse(0, 0, 0.36, 0.26, 28), (200, 200, 205)),
            Part(rect(-0.25, -0.16, 0.25, 0.16), (60, 160, 70))]


def train_station(rng):
    parts = [Part(rect(-0.5, -0.35, 0.5, 0.35), (110, 100, 92))]
    for y in np.linspace(-0.28, 0.28, 5):
        parts.append(Part(rect(-0.5, y - 0.02, 0.5, y + 0.02), (60, 50, 45)))
    parts += [Part(rect(-0.35, y - 0.03, 0.35, y + 0.03), _jit(rng, (60, 100, 160), 10)) for y in (-0.14, 0.14)]
    return parts


def windmill(rng):
    parts = [Part(bar(0, 0, 0.45, 0.3, 0.05), (40, 40, 40), mask=False)]
    for a in (0, 2 * np.pi / 3, 4 * np.pi / 3):
        parts.append(Part(bar(0, 0, 0.45 * np.cos(a), 0.45 * np.sin(a), 0.05), (245, 245, 245)))
    return parts + [Part(circle(0, 0, 0.05, 10), (200, 200, 200))]


def building(rng):
    roof = [(180, 80, 60), (150, 150, 155), (200, 200, 195), (90, 90, 100)][int(rng.integers(4))]
    return [Part(rect(-0.5, -0.35, 0.5, 0.35), _jit(rng, roof, 10)), Part(rect(-0.5, -0.02, 0.5, 0.02), (60, 60, 60))]


def person(rng):
    shirt = [(200, 40, 40), (40, 60, 180), (230, 230, 230), (40, 140, 60), (230, 170, 30)][int(rng.integers(5))]
    return [Part(ellipse(0, 0, 0.22, 0.45, 14), _jit(rng, shirt, 12)), Part(circle(0, 0, 0.16, 10), (50, 35, 25))]


def bicycle(rng):
    return [Part(circle(0.32, 0, 0.17, 12), (20, 20, 20)), Part(circle(-0.32, 0, 0.17, 12), (20, 20, 20)),
            Part(rect(-0.35, -0.04, 0.35, 0.04), _jit(rng, (60, 60, 200), 30)),
            Part(circle(0, 0, 0.14, 10), _jit(rng, (200, 60, 60), 30))]


def motorcycle(rng):
    return [Part(ellipse(0, 0, 0.5, 0.16, 14), (30, 30, 30)),
            Part(ellipse(0.05, 0, 0.25, 0.13, 12), _jit(rng, (180, 30, 30), 30)),
            Part(rect(0.3, -0.3, 0.35, 0.3), (60, 60, 60))]


def van(rng):
    return [Part(rect(-0.5, -0.24, 0.5, 0.24), _jit(rng, (225, 225, 228), 10)),
            Part(rect(0.26, -0.2, 0.4, 0.2), (30, 40, 55))]


def bus(rng):
    c = [(230, 190, 30), (200, 40, 40), (40, 120, 200)][int(rng.integers(3))]
    parts = [Part(rect(-0.5, -0.12, 0.5, 0.12), _jit(rng, c, 10))]
    return parts + [Part(rect(x, -0.06, x + 0.1, 0.06), (235, 235, 235)) for x in (-0.35, -0.1, 0.15)]


def trailer(rng):
    return [Part(rect(-0.5, -0.13, 0.5, 0.13), _jit(rng, (150, 150, 160), 10)),
            Part(rect(-0.46, -0.1, 0.46, 0.1), _jit(rng, (120, 90, 60), 10))]


def tricycle(rng):
    return [Part(np.array([[0.5, 0], [-0.3, -0.3], [-0.5, -0.3], [-0.5, 0.3], [-0.3, 0.3]]),
                 _jit(rng, (90, 130, 90), 20))]


def awning_tricycle(rng):
    return tricycle(rng) + [Part(rect(-0.5, -0.3, -0.05, 0.3), _jit(rng, (30, 120, 200), 30))]


def cart(rng):
    return [Part(rect(-0.5, -0.3, 0.5, 0.3), _jit(rng, (240, 240, 240), 8)), Part(rect(-0.1, -0.3, 0.5, 0.3),
                                                                                   _jit(rng, (40, 110, 60), 10))]


def skateboarder(rng):
    return [Part(rect(-0.5, -0.1, 0.5, 0.1), (150, 90, 40))] + person(rng)


SHAPES: dict[str, Callable[[np.random.Generator], list[Part]]] = {
    "plane": plane, "helicopter": helicopter, "ship": ship, "storage tank": storage_tank,
    "small vehicle": small_vehicle, "large vehicle": large_vehicle, "harbor": harbor, "bridge": bridge,
    "roundabout": roundabout, "tennis court": tennis_court, "basketball court": basketball_court,
    "baseball diamond": baseball_diamond, "soccer field": soccer_field, "ground track field": ground_track_field,
    "swimming pool": swimming_pool, "airport": airport, "chimney": chimney, "dam": dam,
    "expressway service area": expressway_service_area, "expressway toll station": expressway_toll_station,
    "golf field": golf_field, "overpass": overpass, "crossroad": crossroad, "t junction": t_junction,
    "parking lot": parking_lot, "stadium": stadium_, "train station": train_station, "windmill": windmill,
    "building": building, "person": person, "bicycle": bicycle, "motorcycle": motorcycle, "van": van,
    "bus": bus, "trailer": trailer, "tricycle": tricycle, "awning tricycle": awning_tricycle, "cart": cart,
    "skateboarder": skateboarder,
}

# Classes that stand up from the ground and cast a shadow (drawn as a darkened offset footprint).
SHADOWED = frozenset({"plane", "helicopter", "storage tank", "large vehicle", "small vehicle", "van", "bus",
                      "trailer", "building", "stadium", "person", "train station"})
