"""Shapes of things that move: aircraft, ships and road vehicles, from cars to tricycles."""

from __future__ import annotations

import numpy as np

from .parts import CAR_COLORS, Part, bar, circle, ellipse, jitter, rect


def plane(rng):
    c = jitter(rng, (236, 236, 240), 8)
    return [
        Part(np.array([[0.5, 0], [0.42, -0.05], [-0.44, -0.05], [-0.48, 0], [-0.44, 0.05], [0.42, 0.05]]), c),
        Part(
            np.array(
                [
                    [0.12, -0.05],
                    [-0.14, -0.5],
                    [-0.24, -0.5],
                    [-0.08, -0.05],
                    [-0.08, 0.05],
                    [-0.24, 0.5],
                    [-0.14, 0.5],
                    [0.12, 0.05],
                ]
            ),
            c,
        ),
        Part(
            np.array(
                [
                    [-0.34, -0.03],
                    [-0.44, -0.2],
                    [-0.49, -0.2],
                    [-0.45, 0],
                    [-0.49, 0.2],
                    [-0.44, 0.2],
                    [-0.34, 0.03],
                ]
            ),
            c,
        ),
    ]


def helicopter(rng):
    body = jitter(rng, (72, 96, 58))
    return [
        Part(ellipse(0.12, 0, 0.2, 0.12), body),
        Part(rect(-0.48, -0.03, 0.0, 0.03), body),
        Part(rect(-0.48, -0.1, -0.42, 0.1), body),
        Part(bar(-0.2, -0.35, 0.44, 0.35, 0.04), (25, 25, 25)),
        Part(bar(-0.2, 0.35, 0.44, -0.35, 0.04), (25, 25, 25)),
    ]


def ship(rng):
    hull = jitter(rng, (105, 105, 115), 18)
    deck = jitter(rng, (230, 228, 220), 8)
    return [
        Part(
            np.array([[-0.5, -0.02], [-0.5, 0.02], [-0.2, 0.09], [-0.2, -0.09]]), (120, 160, 190), mask=False
        ),
        Part(np.array([[0.5, 0], [0.32, -0.1], [-0.3, -0.1], [-0.34, 0], [-0.3, 0.1], [0.32, 0.1]]), hull),
        Part(rect(-0.26, -0.07, -0.08, 0.07), deck),
        Part(rect(0.0, -0.05, 0.26, 0.05), jitter(rng, (150, 70, 55), 20)),
    ]


def small_vehicle(rng):
    c = CAR_COLORS[int(rng.integers(len(CAR_COLORS)))]
    return [
        Part(rect(-0.5, -0.22, 0.5, 0.22), jitter(rng, c, 10)),
        Part(rect(0.12, -0.18, 0.3, 0.18), (30, 40, 55)),
        Part(rect(-0.38, -0.17, -0.26, 0.17), (30, 40, 55)),
    ]


def large_vehicle(rng):
    return [
        Part(rect(-0.5, -0.14, 0.26, 0.14), jitter(rng, (236, 230, 200), 12)),
        Part(rect(0.3, -0.13, 0.5, 0.13), jitter(rng, (40, 110, 170), 30)),
    ]


def van(rng):
    return [
        Part(rect(-0.5, -0.24, 0.5, 0.24), jitter(rng, (225, 225, 228), 10)),
        Part(rect(0.26, -0.2, 0.4, 0.2), (30, 40, 55)),
    ]


def bus(rng):
    c = [(230, 190, 30), (200, 40, 40), (40, 120, 200)][int(rng.integers(3))]
    parts = [Part(rect(-0.5, -0.12, 0.5, 0.12), jitter(rng, c, 10))]
    return parts + [Part(rect(x, -0.06, x + 0.1, 0.06), (235, 235, 235)) for x in (-0.35, -0.1, 0.15)]


def trailer(rng):
    return [
        Part(rect(-0.5, -0.13, 0.5, 0.13), jitter(rng, (150, 150, 160), 10)),
        Part(rect(-0.46, -0.1, 0.46, 0.1), jitter(rng, (120, 90, 60), 10)),
    ]


def tricycle(rng):
    return [
        Part(
            np.array([[0.5, 0], [-0.3, -0.3], [-0.5, -0.3], [-0.5, 0.3], [-0.3, 0.3]]),
            jitter(rng, (90, 130, 90), 20),
        )
    ]


def awning_tricycle(rng):
    return tricycle(rng) + [Part(rect(-0.5, -0.3, -0.05, 0.3), jitter(rng, (30, 120, 200), 30))]


def cart(rng):
    return [
        Part(rect(-0.5, -0.3, 0.5, 0.3), jitter(rng, (240, 240, 240), 8)),
        Part(rect(-0.1, -0.3, 0.5, 0.3), jitter(rng, (40, 110, 60), 10)),
    ]


def bicycle(rng):
    return [
        Part(circle(0.32, 0, 0.17, 12), (20, 20, 20)),
        Part(circle(-0.32, 0, 0.17, 12), (20, 20, 20)),
        Part(rect(-0.35, -0.04, 0.35, 0.04), jitter(rng, (60, 60, 200), 30)),
        Part(circle(0, 0, 0.14, 10), jitter(rng, (200, 60, 60), 30)),
    ]


def motorcycle(rng):
    return [
        Part(ellipse(0, 0, 0.5, 0.16, 14), (30, 30, 30)),
        Part(ellipse(0.05, 0, 0.25, 0.13, 12), jitter(rng, (180, 30, 30), 30)),
        Part(rect(0.3, -0.3, 0.35, 0.3), (60, 60, 60)),
    ]
