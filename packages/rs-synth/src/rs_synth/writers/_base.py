"""Shared writer plumbing: per-image generators, atomic output directories, image encoding."""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
from PIL import Image

from rs_formats.atomic import atomic_dir
from rs_formats.outputs import check_output

from ..scenes import Scene
from ..truth import ObjectTruth, Truth

SPLITS = (("train", 0.8), ("val", 0.1), ("test", 0.1))


def image_rng(seed: int, stream: str, index: int) -> np.random.Generator:
    """Generator for image ``index`` of a writer: depends only on (seed, stream, index), never on the order
    or the process images are made in. ``stream`` keeps different formats' scenes apart."""
    return np.random.default_rng([int(seed), zlib.crc32(stream.encode()), int(index)])


def split_of(seed: int, stream: str, index: int, splits=SPLITS) -> str:
    u = np.random.default_rng([int(seed), zlib.crc32(stream.encode()), int(index), 1]).random()
    acc = 0.0
    for name, frac in splits:
        acc += frac
        if u < acc:
            return name
    return splits[-1][0]


@contextlib.contextmanager
def atomic_output(out_dir: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling directory and rename it to ``out_dir`` only when the block succeeds, so a
    failed or killed run leaves no half-written dataset behind (:func:`rs_formats.atomic.atomic_dir`).
    An existing empty directory is taken over; a non-empty one only with ``overwrite``, and only when
    rs-synth wrote it (:func:`rs_formats.outputs.check_output`)."""
    out = check_output(out_dir, (), overwrite)
    if out.exists():
        if not out.is_dir():
            raise FileExistsError(f"{out}: exists and is not a directory")
        if any(out.iterdir()) and not overwrite:
            raise FileExistsError(f"{out}: directory is not empty (pass overwrite=True / --overwrite)")
    with atomic_dir(out, overwrite=True) as tmp:
        yield tmp


def save_image(arr: np.ndarray, path: Path, quality: int = 92) -> None:
    """Encode by extension: PNG (fast zlib level, still lossless), JPEG, BMP, TIFF."""
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray(arr)
    ext = path.suffix.lower()
    if ext == ".png":
        img.save(path, compress_level=1)
    elif ext in (".jpg", ".jpeg"):
        img.save(path, quality=quality)
    elif ext in (".tif", ".tiff"):
        img.save(path, compression="tiff_deflate")
    else:
        img.save(path)


def object_truths(scene: Scene, labels: Mapping[str, object], ndigits: int = 2) -> list[ObjectTruth]:
    """Truth records for a scene's objects with each natural class mapped to the format's label."""
    return [
        ObjectTruth(
            cls=o.cls,
            label=str(labels[o.cls]),
            box=[round(v, ndigits) for v in o.box],
            poly=[[round(x, ndigits), round(y, ndigits)] for x, y in o.poly],
            angle=round(o.angle, 3),
            instance_id=o.instance_id,
        )
        for o in scene.objects
    ]


def finish(truth: Truth, tmp: Path) -> Truth:
    truth.save(tmp)
    return truth
