"""Shapes of fixed infrastructure: tanks, ports, bridges, roads and junctions, airports, industrial sites."""

from __future__ import annotations

import numpy as np

from .parts import ASPHALT, CAR_COLORS, WATER, WHITE, Part, bar, circle, ellipse, jitter, rect


def storage_tank(rng):
    return [
        Part(circle(0, 0, 0.5, 28), jitter(rng, (228, 226, 214), 8)),
        Part(circle(0, 0, 0.4, 28), (70, 70, 72)),
        Part(circle(0, 0, 0.34, 28), jitter(rng, (205, 205, 198), 8)),
        Part(circle(0, 0, 0.06, 10), (90, 90, 90)),
    ]


def harbor(rng):
    concrete = jitter(rng, (176, 172, 160), 10)
    parts = [
        Part(rect(-0.5, -0.5, 0.5, 0.5), WATER, mask=False),
        Part(rect(-0.5, -0.5, -0.22, 0.5), concrete),
    ]
    k = int(rng.integers(3, 5))
    for y in np.linspace(-0.38, 0.38, k):
        parts.append(Part(rect(-0.22, y - 0.04, 0.48, y + 0.04), concrete))
    parts.append(Part(rect(-0.22, -0.42, 0.48, -0.36), concrete))
    return parts


def bridge(rng):
    deck = jitter(rng, (150, 148, 140), 10)
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
        Part(circle(0, 0, 0.27, 28), jitter(rng, (60, 150, 60))),
    ]


def airport(rng):
    apron = jitter(rng, (150, 150, 146), 8)
    parts = [
        Part(rect(-0.5, -0.07, 0.5, 0.07), (52, 52, 56)),
        Part(rect(-0.3, 0.12, 0.3, 0.42), apron),
        Part(rect(-0.38, 0.07, 0.38, 0.12), (95, 95, 98)),
        Part(rect(-0.26, 0.36, 0.26, 0.48), jitter(rng, (200, 205, 215), 8)),
    ]
    parts += [Part(rect(x, -0.006, x + 0.04, 0.006), WHITE) for x in np.arange(-0.44, 0.44, 0.08)]
    parts += [Part(rect(-0.49, y - 0.005, -0.46, y + 0.005), WHITE) for y in (-0.045, -0.015, 0.015, 0.045)]
    return parts


def chimney(rng):
    return [
        Part(bar(0, 0, 0.5, 0.05, 0.1), (30, 30, 30), mask=False),
        Part(circle(0, 0, 0.09, 14), jitter(rng, (190, 80, 70))),
        Part(circle(0, 0, 0.05, 10), (20, 20, 20)),
    ]


def dam(rng):
    return [
        Part(rect(-0.5, -0.5, 0.5, -0.05), WATER, mask=False),
        Part(ellipse(0, 0.35, 0.5, 0.45, 20, np.pi, 2 * np.pi), jitter(rng, (196, 194, 186), 8)),
        Part(ellipse(0, 0.35, 0.47, 0.37, 20, np.pi, 2 * np.pi), (120, 150, 110), mask=False),
    ]


def expressway_service_area(rng):
    parts = [
        Part(rect(-0.5, -0.35, 0.5, 0.35), (120, 120, 124)),
        Part(rect(-0.15, -0.3, 0.2, -0.1), jitter(rng, (200, 120, 90), 20)),
    ]
    for i, x in enumerate(np.arange(-0.44, 0.46, 0.09)):
        c = CAR_COLORS[(i * 7 + int(rng.integers(6))) % len(CAR_COLORS)]
        parts.append(Part(rect(x, 0.08, x + 0.05, 0.22), c))
    return parts


def expressway_toll_station(rng):
    parts = [Part(rect(-0.5, -0.25, 0.5, 0.25), ASPHALT), Part(rect(-0.1, -0.3, 0.1, 0.3), (210, 60, 50))]
    parts += [Part(rect(-0.06, y - 0.02, 0.06, y + 0.02), WHITE) for y in np.linspace(-0.2, 0.2, 5)]
    return parts


def overpass(rng):
    return [
        Part(rect(-0.5, -0.09, 0.5, 0.09), ASPHALT),
        Part(rect(-0.14, -0.5, 0.1, 0.5), (30, 30, 30), mask=False),
        Part(rect(-0.1, -0.5, 0.1, 0.5), jitter(rng, (150, 150, 150), 8)),
        Part(rect(-0.1, -0.5, -0.08, 0.5), WHITE),
        Part(rect(0.08, -0.5, 0.1, 0.5), WHITE),
    ]


def crossroad(rng):
    return [Part(rect(-0.5, -0.1, 0.5, 0.1), ASPHALT), Part(rect(-0.1, -0.5, 0.1, 0.5), ASPHALT)] + [
        Part(rect(x, -0.08, x + 0.015, 0.08), WHITE) for x in (-0.16, -0.12, 0.12, 0.16)
    ]


def t_junction(rng):
    return [
        Part(rect(-0.5, -0.1, 0.5, 0.1), ASPHALT),
        Part(rect(-0.1, 0.0, 0.1, 0.5), ASPHALT),
        Part(rect(-0.5, -0.006, -0.12, 0.006), WHITE),
        Part(rect(0.12, -0.006, 0.5, 0.006), WHITE),
    ]


def parking_lot(rng):
    parts = [Part(rect(-0.5, -0.35, 0.5, 0.35), (96, 96, 100))]
    for row in (-0.3, 0.02):
        for j, x in enumerate(np.arange(-0.46, 0.44, 0.1)):
            parts.append(Part(rect(x, row, x + 0.006, row + 0.26), WHITE))
            if (j * 5 + int(rng.integers(3))) % 3:
                c = CAR_COLORS[int(rng.integers(len(CAR_COLORS)))]
                parts.append(Part(rect(x + 0.02, row + 0.02, x + 0.08, row + 0.24), c))
    return parts


def train_station(rng):
    parts = [Part(rect(-0.5, -0.35, 0.5, 0.35), (110, 100, 92))]
    for y in np.linspace(-0.28, 0.28, 5):
        parts.append(Part(rect(-0.5, y - 0.02, 0.5, y + 0.02), (60, 50, 45)))
    parts += [
        Part(rect(-0.35, y - 0.03, 0.35, y + 0.03), jitter(rng, (60, 100, 160), 10)) for y in (-0.14, 0.14)
    ]
    return parts


def windmill(rng):
    parts = [Part(bar(0, 0, 0.45, 0.3, 0.05), (40, 40, 40), mask=False)]
    for a in (0, 2 * np.pi / 3, 4 * np.pi / 3):
        parts.append(Part(bar(0, 0, 0.45 * np.cos(a), 0.45 * np.sin(a), 0.05), (245, 245, 245)))
    return parts + [Part(circle(0, 0, 0.05, 10), (200, 200, 200))]


def building(rng):
    roof = [(180, 80, 60), (150, 150, 155), (200, 200, 195), (90, 90, 100)][int(rng.integers(4))]
    return [
        Part(rect(-0.5, -0.35, 0.5, 0.35), jitter(rng, roof, 10)),
        Part(rect(-0.5, -0.02, 0.5, 0.02), (60, 60, 60)),
    ]
