"""Land-cover scenes for the segmentation formats (LoveDA, ISPRS Potsdam / Vaihingen).

One internal label map (:data:`LANDCOVER`) is drawn first and the picture coloured from it, so masks and
pixels agree exactly; each writer maps the internal classes to its own codes or colours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from .shapes import CAR_COLORS
from .textures import desert, farmland, forest, grass, noise, water

LANDCOVER = ("no-data", "background", "building", "road", "water", "barren", "forest", "agriculture", "car")
NODATA, BACKGROUND, BUILDING, ROAD, WATER, BARREN, FOREST, AGRICULTURE, CAR = range(9)

_NIR = {
    BACKGROUND: 190,
    BUILDING: 95,
    ROAD: 80,
    WATER: 18,
    BARREN: 120,
    FOREST: 215,
    AGRICULTURE: 200,
    CAR: 70,
    NODATA: 0,
}


@dataclass
class LandcoverScene:
    image: np.ndarray  # (H, W, 3) uint8 RGB
    nir: np.ndarray  # (H, W) uint8 near infrared
    labels: np.ndarray  # (H, W) uint8 codes of LANDCOVER
    urban: bool


def _roads(rng, draw: ImageDraw.ImageDraw, w: int, h: int, k: int) -> None:
    for _ in range(k):
        width = rng.uniform(0.025, 0.045) * w
        if rng.random() < 0.5:
            y = rng.uniform(0.1, 0.9) * h
            draw.rectangle([0, y - width / 2, w, y + width / 2], fill=ROAD)
        else:
            x = rng.uniform(0.1, 0.9) * w
            draw.rectangle([x - width / 2, 0, x + width / 2, h], fill=ROAD)


def landcover_scene(
    rng: np.random.Generator, size: int | tuple[int, int], urban: bool, nodata: bool = False
) -> LandcoverScene:
    """A random land-cover layout: Voronoi patches, roads, buildings, trees and cars (``urban`` decides the
    mix); ``nodata`` blanks a strip along one edge (label 0, black pixels), as LoveDA tiles have."""
    w, h = (size, size) if isinstance(size, int) else size
    # Voronoi patches on a coarse grid, upsampled: a few ms even at 1024 px.
    k = int(rng.integers(5, 11))
    classes = [BACKGROUND, BARREN, FOREST, AGRICULTURE, WATER]
    probs = [0.55, 0.2, 0.1, 0.1, 0.05] if urban else [0.2, 0.1, 0.25, 0.4, 0.05]
    seeds = rng.random((k, 2)) * (h, w)
    seed_cls = rng.choice(classes, size=k, p=probs)
    gh, gw = max(8, h // 8), max(8, w // 8)
    yy, xx = np.mgrid[0:gh, 0:gw].astype(np.float32)
    warp = (noise(rng, gh, gw, (3, 6), (0.6, 0.4)) - 0.5) * 0.3 * gw
    d = (yy[None] * h / gh + warp[None] - seeds[:, 0, None, None]) ** 2 + (
        xx[None] * w / gw + warp[None] - seeds[:, 1, None, None]
    ) ** 2
    coarse = seed_cls[d.argmin(0)].astype(np.uint8)
    lab = Image.fromarray(coarse, "L").resize((w, h), Image.NEAREST)
    draw = ImageDraw.Draw(lab)
    _roads(rng, draw, w, h, int(rng.integers(1, 4)))
    labels = np.asarray(lab).copy()
    # Buildings where there is no road or water yet.
    n_build = int(rng.integers(12, 30) if urban else rng.integers(2, 8))
    roofs = Image.new("RGB", (w, h), 0)
    rdraw = ImageDraw.Draw(roofs)
    for _ in range(n_build):
        bw, bh = rng.uniform(0.04, 0.12, 2) * (w, h)
        x, y = rng.uniform(0, w - bw), rng.uniform(0, h - bh)
        x0, y0, x1, y1 = int(x), int(y), int(x + bw), int(y + bh)
        if (np.isin(labels[y0:y1, x0:x1], (ROAD, WATER))).any():
            continue
        labels[y0:y1, x0:x1] = BUILDING
        roof = [(185, 90, 70), (150, 150, 155), (210, 210, 205), (105, 105, 115)][int(rng.integers(4))]
        rdraw.rectangle([x0, y0, x1 - 1, y1 - 1], fill=roof)
    # Single trees on open ground, cars on roads.
    lab = Image.fromarray(labels, "L")
    draw = ImageDraw.Draw(lab)
    for _ in range(int(rng.integers(5, 25))):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.01, 0.025) * w
        if labels[int(y), int(x)] == BACKGROUND:
            draw.ellipse([x - r, y - r, x + r, y + r], fill=FOREST)
    labels = np.asarray(lab).copy()
    cars = Image.new("RGB", (w, h), 0)
    cdraw = ImageDraw.Draw(cars)
    road_y, road_x = np.nonzero(labels == ROAD)
    if len(road_y):
        for j in rng.integers(0, len(road_y), size=int(rng.integers(3, 15))):
            cy, cx = int(road_y[j]), int(road_x[j])
            cl, cw = max(2, int(0.03 * w)), max(1, int(0.014 * w))
            if rng.random() < 0.5:
                cl, cw = cw, cl
            y0, x0 = max(0, cy - cl // 2), max(0, cx - cw // 2)
            if (labels[y0 : cy + cl // 2 + 1, x0 : cx + cw // 2 + 1] != ROAD).any():
                continue
            labels[y0 : cy + cl // 2 + 1, x0 : cx + cw // 2 + 1] = CAR
            cdraw.rectangle([x0, y0, cx + cw // 2, cy + cl // 2], fill=CAR_COLORS[int(rng.integers(6))])
    if nodata:
        side, frac = int(rng.integers(4)), rng.uniform(0.1, 0.3)
        if side == 0:
            labels[:, : int(frac * w)] = NODATA
        elif side == 1:
            labels[:, w - int(frac * w) :] = NODATA
        elif side == 2:
            labels[: int(frac * h)] = NODATA
        else:
            labels[h - int(frac * h) :] = NODATA
    img = np.zeros((h, w, 3), np.float32)
    tex = {BACKGROUND: grass, FOREST: forest, AGRICULTURE: farmland, WATER: water, BARREN: desert}
    for c, fn in tex.items():
        m = labels == c
        if m.any():
            t = fn(rng, h, w)
            if c == BARREN:
                t = t * (0.8, 0.72, 0.65)
            img[m] = t[m]
    m = labels == ROAD
    img[m] = (78, 78, 82)
    img[labels == BUILDING] = np.asarray(roofs, np.float32)[labels == BUILDING]
    img[labels == CAR] = np.asarray(cars, np.float32)[labels == CAR]
    n = noise(rng, h, w, (8, max(8, w // 8)), (0.5, 0.5))
    img += (n[..., None] - 0.5) * 20
    nir = np.vectorize(_NIR.get, otypes=[np.float32])(np.arange(9))[labels] + (n - 0.5) * 30
    img[labels == NODATA] = 0
    nir[labels == NODATA] = 0
    return LandcoverScene(
        image=np.clip(img, 0, 255).astype(np.uint8),
        nir=np.clip(nir, 0, 255).astype(np.uint8),
        labels=labels,
        urban=urban,
    )
