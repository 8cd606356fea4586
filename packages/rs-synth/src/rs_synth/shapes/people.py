"""Shapes of people seen from a drone (VisDrone, AU-AIR, Stanford Drone): a shirt and a head."""

from __future__ import annotations

from .parts import Part, circle, ellipse, jitter, rect


def person(rng):
    shirt = [(200, 40, 40), (40, 60, 180), (230, 230, 230), (40, 140, 60), (230, 170, 30)][
        int(rng.integers(5))
    ]
    return [
        Part(ellipse(0, 0, 0.22, 0.45, 14), jitter(rng, shirt, 12)),
        Part(circle(0, 0, 0.16, 10), (50, 35, 25)),
    ]


def skateboarder(rng):
    return [Part(rect(-0.5, -0.1, 0.5, 0.1), (150, 90, 40))] + person(rng)
