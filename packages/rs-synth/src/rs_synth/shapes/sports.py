"""Shapes of sports grounds: courts, fields, tracks, pools, golf courses and stadiums."""

from __future__ import annotations

import numpy as np

from .parts import WHITE, Part, circle, ellipse, jitter, outline, rect, rounded_rect


def tennis_court(rng):
    surface = [(48, 130, 78), (44, 92, 168), (170, 80, 60)][int(rng.integers(3))]
    parts = [
        Part(rect(-0.5, -0.28, 0.5, 0.28), jitter(rng, surface, 10)),
        Part(
            rect(-0.4, -0.19, 0.4, 0.19), jitter(rng, (60, 140, 190) if surface[2] < 100 else (40, 130, 80))
        ),
    ]
    parts += [Part(p, WHITE) for p in outline(-0.4, -0.19, 0.4, 0.19, 0.02)]
    parts += [
        Part(rect(-0.01, -0.24, 0.01, 0.24), WHITE),
        Part(rect(-0.22, -0.005, 0.22, 0.005), WHITE),
        Part(rect(-0.22, -0.19, -0.21, 0.19), WHITE),
        Part(rect(0.21, -0.19, 0.22, 0.19), WHITE),
    ]
    return parts


def basketball_court(rng):
    wood = jitter(rng, (205, 120, 55), 12)
    parts = [Part(rect(-0.5, -0.3, 0.5, 0.3), wood)]
    parts += [Part(p, WHITE) for p in outline(-0.47, -0.27, 0.47, 0.27, 0.02)]
    parts += [
        Part(rect(-0.01, -0.27, 0.01, 0.27), WHITE),
        Part(circle(0, 0, 0.1, 16), WHITE),
        Part(circle(0, 0, 0.08, 16), (150, 40, 40)),
        Part(rect(-0.47, -0.09, -0.3, 0.09), (150, 40, 40)),
        Part(rect(0.3, -0.09, 0.47, 0.09), (150, 40, 40)),
    ]
    return parts


def baseball_diamond(rng):
    grass = jitter(rng, (70, 150, 60))
    dirt = jitter(rng, (196, 150, 100), 10)
    home = (-0.5, 0.0)
    fan = np.concatenate([[home], ellipse(home[0], 0, 1.0, 1.0, 16, -np.pi / 4, np.pi / 4)])
    fan[:, 1] *= 0.7  # keep within [-0.5, 0.5] across
    infield = ellipse(-0.5, 0, 0.62, 0.62, 12, -np.pi / 4, np.pi / 4)
    infield = np.concatenate([[home], infield])
    infield[:, 1] *= 0.7
    diamond = np.array([[-0.5, 0], [-0.25, -0.18], [0.0, 0], [-0.25, 0.18]])
    return [
        Part(fan, grass),
        Part(infield, dirt),
        Part(diamond, (90, 165, 70)),
        Part(circle(-0.25, 0, 0.04, 10), dirt),
    ]


def soccer_field(rng):
    g1, g2 = jitter(rng, (50, 140, 60), 8), (70, 165, 75)
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
        Part(rounded_rect(1.0, 0.56), jitter(rng, (182, 68, 56), 12)),
        Part(rounded_rect(0.84, 0.4), (235, 225, 220)),
        Part(rounded_rect(0.8, 0.36), jitter(rng, (62, 150, 70))),
        Part(rect(-0.2, -0.14, 0.2, 0.14), (75, 165, 80)),
    ]


def swimming_pool(rng):
    water = jitter(rng, (40, 190, 225), 10)
    parts = [Part(rect(-0.5, -0.3, 0.5, 0.3), (232, 232, 226)), Part(rect(-0.44, -0.24, 0.44, 0.24), water)]
    parts += [Part(rect(-0.42, y - 0.006, 0.42, y + 0.006), (20, 110, 170)) for y in (-0.12, 0.0, 0.12)]
    return parts


def golf_field(rng):
    fair = jitter(rng, (120, 190, 90), 10)
    blob = ellipse(0, 0, 0.5, 0.34, 20) * (1 + 0.08 * np.sin(np.linspace(0, 6 * np.pi, 20)))[:, None]
    blob = np.clip(blob, -0.5, 0.5)
    return [
        Part(blob, fair),
        Part(circle(0.28, 0.05, 0.09, 16), (70, 170, 70)),
        Part(ellipse(-0.1, 0.2, 0.09, 0.05, 12), (235, 220, 170)),
        Part(ellipse(0.1, -0.2, 0.08, 0.05, 12), (235, 220, 170)),
        Part(ellipse(-0.3, -0.05, 0.06, 0.04, 12), (235, 220, 170)),
    ]


def stadium(rng):
    return [
        Part(ellipse(0, 0, 0.5, 0.4, 28), jitter(rng, (180, 180, 190), 10)),
        Part(ellipse(0, 0, 0.42, 0.32, 28), (140, 40, 40)),
        Part(ellipse(0, 0, 0.36, 0.26, 28), (200, 200, 205)),
        Part(rect(-0.25, -0.16, 0.25, 0.16), (60, 160, 70)),
    ]
