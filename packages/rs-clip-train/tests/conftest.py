"""Shared fixtures: a small learnable caption dataset, the CPU environment, one Ray per module."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

# What the CPU path needs (the package sets these itself too; tests pin them before anything imports).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("DS_ACCELERATOR", "cpu")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

COLORS = {"red": (220, 40, 40), "green": (40, 200, 60), "blue": (50, 80, 230), "yellow": (230, 210, 40)}
SHAPES = ("square", "circle")


def scene(rng: np.random.Generator, color: str, shape: str, count: int, size: int = 80) -> bytes:
    """A textured ground with ``count`` coloured shapes: captions describe what is visibly there."""
    ground = rng.integers(90, 140, size=(size, size, 3), dtype=np.uint8)
    img = Image.fromarray(ground)
    draw = ImageDraw.Draw(img)
    for _ in range(count):
        r = int(rng.integers(6, 10))
        x, y = (int(v) for v in rng.integers(r, size - r, size=2))
        box = (x - r, y - r, x + r, y + r)
        (draw.rectangle if shape == "square" else draw.ellipse)(box, fill=COLORS[color])
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def write_caption_dataset(path: Path, n: int = 192, seed: int = 0, row_group_rows: int = 32,
                          kind: str = "captions", name: str = "toy-scenes") -> Path:
    """An rs-dataset v1 of ``n`` scenes, each with 3 captions, written through rs_formats."""
    from rs_formats import DatasetWriter

    rng = np.random.default_rng(seed)
    colors = list(COLORS)
    with DatasetWriter(path, name=name, kind=kind, generator="rs-clip-train tests",
                       class_names=colors if kind == "classification" else None,
                       row_group_rows=row_group_rows) as w:
        for i in range(n):
            color, shape = colors[i % len(colors)], SHAPES[(i // len(colors)) % len(SHAPES)]
            count = 1 + (i // 8) % 3
            caps = [f"an aerial image with {count} {color} {shape}s",
                    f"{count} {color} {shape}s on the ground",
                    f"a satellite view showing {color} {shape}s"]
            w.write({"image_id": f"{name}/{i:05d}", "source": name, "image": scene(rng, color, shape, count),
                     "width": 80, "height": 80, "captions": caps,
                     "label": colors.index(color) if kind == "classification" else None})
    return path


@pytest.fixture(scope="session")
def caption_ds(tmp_path_factory) -> Path:
    return write_caption_dataset(tmp_path_factory.mktemp("data") / "toy")
