"""Tiny DOTA-format scenes written on the fly: labelTxt files plus images with the boxes drawn in."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

os.environ.setdefault("OMP_NUM_THREADS", "1")


def write_scene(
    root: Path, stem: str, objects, size=(200, 200), *, header=True, crlf=False, ext=".png", image=True
) -> tuple[Path, Path]:
    """objects: (label, x0, y0, x1, y1, difficult) axis-aligned boxes written as DOTA polygons."""
    labels, images = root / "labelTxt", root / "images"
    labels.mkdir(parents=True, exist_ok=True)
    images.mkdir(parents=True, exist_ok=True)
    lines = ["imagesource:GoogleEarth", "gsd:0.5"] if header else []
    for label, x0, y0, x1, y1, diff in objects:
        lines.append(f"{x0} {y0} {x1} {y0} {x1} {y1} {x0} {y1} {label} {int(diff)}")
    nl = "\r\n" if crlf else "\n"
    (labels / f"{stem}.txt").write_bytes((nl.join(lines) + nl).encode())
    img_path = images / f"{stem}{ext}"
    if image:
        img = Image.new("RGB", size, (90, 110, 80))
        draw = ImageDraw.Draw(img)
        for _, x0, y0, x1, y1, _ in objects:
            draw.rectangle([x0, y0, x1, y1], fill=(235, 235, 235))
        img.save(img_path)
    return labels / f"{stem}.txt", img_path


def grid_boxes(label: str, n: int, cell: int = 40, box: int = 24, offset: int = 0):
    """n non-overlapping boxes on a 5-column grid inside a 200 px image."""
    out = []
    for i in range(n):
        x = offset + (i % 5) * cell + 8
        y = (i // 5) * cell + 8
        out.append((label, x, y, x + box, y + box, 0))
    return out


@pytest.fixture(scope="session", autouse=True)
def _embedding_cache_in_tmp(tmp_path_factory):
    """Evaluations that do not name a cache directory use one of this session, never the user's."""
    os.environ["RS_CLIP_EVAL_CACHE"] = str(tmp_path_factory.mktemp("embedding-cache"))


@pytest.fixture
def dota_root(tmp_path: Path) -> Path:
    """A small DOTA tree: one accepted image per count 1..10, plus images each rule rejects."""
    root = tmp_path / "dota"
    classes = ["plane", "storage-tank", "tennis-court", "ship", "harbor"]
    for n in range(1, 11):
        write_scene(root, f"P{n:04d}", grid_boxes(classes[n % len(classes)], n), crlf=n % 2 == 0)
    # small vehicles are ignored by the dominance rule
    write_scene(root, "P0011", grid_boxes("plane", 2) + grid_boxes("small-vehicle", 10, box=10, offset=2))
    # rejected: 12 planes, two classes tie, a difficult plane, no RemoteCount class, a tiny ship
    write_scene(root, "R0001", grid_boxes("plane", 12, cell=33, box=20))
    write_scene(
        root,
        "R0002",
        grid_boxes("plane", 2) + [("ship", 100, 150, 120, 170, 0), ("ship", 140, 150, 160, 170, 0)],
    )
    write_scene(root, "R0003", grid_boxes("plane", 3) + [("plane", 150, 150, 170, 170, 1)])
    write_scene(root, "R0004", grid_boxes("small-vehicle", 4))
    write_scene(root, "R0005", [("ship", 10, 10, 14, 14, 0)])
    return root
