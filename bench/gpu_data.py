"""Synthetic caption shards for the GPU suite, written in parallel: JPEGs of a fixed size, as converters write.

Made here with PIL and numpy (no rs-synth, no Ray: the suite must run where only torch, open_clip,
DeepSpeed and pyarrow were carried). Captions follow the pixels (a colour class and a count of squares),
so a few hundred steps visibly learn and a trained checkpoint retrieves above chance.
"""

from __future__ import annotations

import io
from multiprocessing import get_context
from pathlib import Path

import numpy as np

COLOURS = {
    "red": (200, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 70, 200),
    "yellow": (220, 210, 40),
    "white": (235, 235, 235),
    "brown": (120, 80, 40),
    "grey": (128, 128, 128),
    "purple": (130, 40, 160),
}
NUMBERS = ["one", "two", "three", "four", "five"]


def scene(i: int, px: int) -> tuple[bytes, str]:
    """Row ``i``: a JPEG of ``px`` x ``px`` pixels and its caption (both functions of ``i`` alone)."""
    from PIL import Image

    rng = np.random.default_rng(i)
    colour = list(COLOURS)[i % len(COLOURS)]
    count = (i // len(COLOURS)) % len(NUMBERS) + 1
    y, x = np.mgrid[0:px, 0:px].astype(np.float32) / px
    field = (np.sin(9 * x + rng.uniform(0, 6)) * np.cos(7 * y + rng.uniform(0, 6)))[..., None] * 30 + 90
    img = np.clip(field + rng.normal(0, 10, (px, px, 3)), 0, 255).astype(np.uint8)
    side = max(2, px // 8)
    for _ in range(count):
        x0, y0 = (int(v) for v in rng.integers(0, px - side, 2))
        img[y0 : y0 + side, x0 : x0 + side] = COLOURS[colour]
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=90)
    return buf.getvalue(), f"{NUMBERS[count - 1]} {colour} {'square' if count == 1 else 'squares'} on a field"


def _chunk(args: tuple[int, int, int]) -> list[tuple[bytes, str]]:
    start, stop, px = args
    return [scene(i, px) for i in range(start, stop)]


def write_shards(
    path: Path, rows: int, test_rows: int, px: int, processes: int, row_group_rows: int = 256
) -> Path:
    """A captions dataset: ``rows`` rows in split ``train``, the next ``test_rows`` in ``test``; the images
    made by ``processes`` processes."""
    from rs_formats import DatasetWriter

    step = 256
    total = rows + test_rows
    chunks = _split_at([(s, min(s + step, total), px) for s in range(0, total, step)], rows, px)
    with DatasetWriter(
        path, name="gpu-suite", kind="captions", generator="bench/gpu_data.py", row_group_rows=row_group_rows
    ) as w:
        if processes > 1:
            with get_context("fork").Pool(processes) as pool:
                parts = pool.imap(_chunk, chunks)
                _write(w, chunks, parts, px, rows)
        else:
            _write(w, chunks, map(_chunk, chunks), px, rows)
    return path


def _split_at(chunks: list[tuple[int, int, int]], rows: int, px: int) -> list[tuple[int, int, int]]:
    """No chunk straddles the train/test boundary."""
    out = []
    for start, stop, _ in chunks:
        if start < rows < stop:
            out += [(start, rows, px), (rows, stop, px)]
        else:
            out.append((start, stop, px))
    return out


def _write(w, chunks, parts, px: int, rows: int) -> None:
    for (start, _, _), part in zip(chunks, parts):
        for i, (data, caption) in enumerate(part, start):
            w.write(
                {
                    "image_id": f"suite/{i:07d}",
                    "source": "gpu-suite",
                    "image": data,
                    "width": px,
                    "height": px,
                    "captions": [caption],
                },
                split="train" if i < rows else "test",
            )
