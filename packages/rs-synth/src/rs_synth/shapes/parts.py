"""The drawing vocabulary of object shapes: a :class:`Part` is one filled polygon in the object's local
frame (x along its long axis, y across, every point in [-0.5, 0.5]^2), built from the primitives below;
shared colours and a per-object colour jitter keep instances of a class alike but not identical."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Color = tuple[int, int, int]


@dataclass(frozen=True)
class Part:
    pts: np.ndarray  # (N, 2) float, local frame
    color: Color
    mask: bool = True


def jitter(rng: np.random.Generator, c: Color, a: int = 14) -> Color:
    """``c`` with each channel moved by up to ``a``, drawn from ``rng`` (clipped to 0..255)."""
    d = rng.integers(-a, a + 1, 3).tolist()
    return (min(255, max(0, c[0] + d[0])), min(255, max(0, c[1] + d[1])), min(255, max(0, c[2] + d[2])))


def rect(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


def ellipse(
    cx: float, cy: float, rx: float, ry: float, n: int = 24, a0: float = 0.0, a1: float = 2 * np.pi
) -> np.ndarray:
    t = np.linspace(a0, a1, n, endpoint=not np.isclose(a1 - a0, 2 * np.pi))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)


def circle(cx: float, cy: float, r: float, n: int = 24) -> np.ndarray:
    return ellipse(cx, cy, r, r, n)


def rounded_rect(length: float, width: float, n: int = 12) -> np.ndarray:
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
    return np.array(
        [[x0 + n[0], y0 + n[1]], [x1 + n[0], y1 + n[1]], [x1 - n[0], y1 - n[1]], [x0 - n[0], y0 - n[1]]]
    )


def outline(x0: float, y0: float, x1: float, y1: float, w: float) -> list[np.ndarray]:
    """Four bars tracing a rectangle (court lines)."""
    return [
        rect(x0, y0, x1, y0 + w),
        rect(x0, y1 - w, x1, y1),
        rect(x0, y0, x0 + w, y1),
        rect(x1 - w, y0, x1, y1),
    ]


WHITE: Color = (240, 240, 240)
ASPHALT: Color = (70, 70, 74)
WATER: Color = (38, 78, 128)
CAR_COLORS: list[Color] = [
    (200, 30, 30),
    (30, 60, 190),
    (235, 235, 235),
    (20, 20, 22),
    (160, 160, 168),
    (220, 180, 20),
]
