"""Ground textures: fast value noise (small random grids upsampled in C by Pillow) coloured per ground type.

Every function takes the scene's generator and returns an (H, W, 3) float32 array in 0..255; nothing here
loops over pixels in Python.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

GROUNDS = ("grass", "desert", "water", "urban", "farmland", "forest", "concrete")


def noise(
    rng: np.random.Generator,
    h: int,
    w: int,
    cells: tuple[int, ...] = (3, 9, 27),
    weights: tuple[float, ...] = (0.5, 0.3, 0.2),
) -> np.ndarray:
    """Multi-octave value noise in [0, 1] (approximately), shape (h, w), float32."""
    out = np.zeros((h, w), np.float32)
    for c, wt in zip(cells, weights):
        small = rng.random((c + 1, c + 1), dtype=np.float32)
        out += wt * np.asarray(Image.fromarray(small, "F").resize((w, h), Image.BILINEAR))
    return out


def _colorize(n: np.ndarray, base: tuple[float, float, float], amp: tuple[float, float, float]) -> np.ndarray:
    return np.asarray(base, np.float32) + (n[..., None] - 0.5) * np.asarray(amp, np.float32)


def grass(rng, h, w):
    return _colorize(noise(rng, h, w), (88, 128, 62), (50, 60, 40))


def forest(rng, h, w):
    n = noise(rng, h, w, (4, 24, max(8, w // 6)), (0.3, 0.3, 0.4))
    crowns = np.clip((n - 0.35) * 2.5, 0, 1)
    return _colorize(crowns, (36, 72, 34), (40, 70, 36))


def desert(rng, h, w):
    n = noise(rng, h, w, (3, 12), (0.6, 0.4))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = rng.uniform(0, np.pi)
    dunes = np.sin((xx * np.cos(a) + yy * np.sin(a)) * (18 / w) * np.pi + n * 6)
    return _colorize(0.6 * n + 0.2 * dunes, (206, 178, 128), (50, 45, 40))


def water(rng, h, w):
    n = noise(rng, h, w, (3, 15, max(8, w // 4)), (0.5, 0.3, 0.2))
    return _colorize(n, (38, 78, 122), (20, 30, 30))


def concrete(rng, h, w):
    n = noise(rng, h, w, (4, max(8, w // 8)), (0.6, 0.4))
    img = _colorize(n, (158, 156, 150), (30, 30, 30))
    step = max(8, w // 10)
    img[::step, :] *= 0.85
    img[:, ::step] *= 0.85
    return img


def _cells(rng, length: int, n: int) -> np.ndarray:
    """Cell index of each coordinate along an axis with n jittered cells."""
    cuts = np.sort(rng.uniform(0, length, n - 1))
    return np.searchsorted(cuts, np.arange(length))


def farmland(rng, h, w):
    ny, nx = int(rng.integers(3, 6)), int(rng.integers(3, 6))
    ry, rx = _cells(rng, h, ny), _cells(rng, w, nx)
    palette = np.array(
        [[120, 160, 70], [170, 170, 80], [140, 110, 70], [90, 140, 60], [200, 180, 100], [110, 130, 50]],
        np.float32,
    )
    field = rng.integers(len(palette), size=(ny, nx))
    vertical = rng.random((ny, nx)) < 0.5
    idx = field[ry[:, None], rx[None, :]]
    img = palette[idx]
    yy, xx = np.mgrid[0:h, 0:w]
    rows = np.where(vertical[ry[:, None], rx[None, :]], xx, yy)
    img *= (1 - 0.08 * (np.sin(rows * (2 * np.pi / max(3, w // 64))) > 0))[..., None]
    img += (noise(rng, h, w, (4,), (1.0,))[..., None] - 0.5) * 24
    edge = (np.diff(ry, prepend=ry[0])[:, None] > 0) | (np.diff(rx, prepend=rx[0])[None, :] > 0)
    img[edge] = (95, 85, 60)
    return img


def urban(rng, h, w):
    cell = max(12, int(w / rng.uniform(5, 9)))
    road = max(2, cell // 6)
    yy, xx = np.mgrid[0:h, 0:w]
    cy, cx = yy // cell, xx // cell
    iy, ix = yy % cell, xx % cell
    ncy, ncx = h // cell + 1, w // cell + 1
    roofs = np.array(
        [[185, 90, 70], [150, 150, 155], [205, 205, 200], [110, 110, 120], [170, 130, 100]], np.float32
    )
    roof_id = rng.integers(len(roofs), size=(ncy, ncx))
    inset = rng.integers(road + 1, road + 1 + max(1, cell // 6), size=(ncy, ncx))
    split = rng.random((ncy, ncx)) < 0.5
    ins = inset[cy, cx]
    in_building = (iy >= ins) & (ix >= ins) & (iy < cell - 2) & (ix < cell - 2)
    # Some blocks hold two buildings: a gap down the middle.
    mid = np.abs(ix - cell // 2) < max(1, cell // 16)
    in_building &= ~(split[cy, cx] & mid)
    img = np.empty((h, w, 3), np.float32)
    img[:] = (128, 126, 120)
    img[in_building] = roofs[roof_id[cy, cx][in_building]]
    img[(iy < road) | (ix < road)] = (78, 78, 82)
    img += (noise(rng, h, w, (6, max(8, w // 6)), (0.5, 0.5))[..., None] - 0.5) * 30
    return img


GROUND_FUNCS = {
    "grass": grass,
    "desert": desert,
    "water": water,
    "urban": urban,
    "farmland": farmland,
    "forest": forest,
    "concrete": concrete,
}


def ground_texture(rng: np.random.Generator, ground: str, h: int, w: int) -> np.ndarray:
    """(h, w, 3) float32 texture of the named ground type."""
    try:
        fn = GROUND_FUNCS[ground]
    except KeyError:
        raise ValueError(f"unknown ground type {ground!r}; known: {', '.join(GROUNDS)}") from None
    return fn(rng, h, w)


def water_mask(rng: np.random.Generator, kind: str, h: int, w: int) -> np.ndarray:
    """Boolean (h, w) mask of a water body: ``sea`` (a coast: one side of a wavy line), ``river`` (a wavy
    band across the image) or ``lake`` (a blob)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    wob = (noise(rng, h, w, (3, 7), (0.7, 0.3)) - 0.5) * 0.25 * w
    if kind == "lake":
        cy, cx = rng.uniform(0.35, 0.65, 2) * (h, w)
        r = rng.uniform(0.22, 0.32) * w
        return np.hypot(yy - cy, xx - cx) + wob < r
    a = rng.uniform(0, 2 * np.pi)
    d = (xx - w / 2) * np.cos(a) + (yy - h / 2) * np.sin(a) + wob
    if kind == "sea":
        return d > rng.uniform(-0.15, 0.1) * w
    if kind == "river":
        return np.abs(d - rng.uniform(-0.15, 0.15) * w) < rng.uniform(0.07, 0.12) * w
    raise ValueError(f"unknown water kind {kind!r}; known: sea, river, lake")
