from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image


def png_bytes(seed: int, size: int = 16) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def embedding_batches(n: int, dim: int = 4, per: int = 3, seed: int = 0):
    """``(image ids, vectors)`` batches of ``n`` random embeddings, as a writer of embeddings gets them."""
    rng = np.random.default_rng(seed)
    for start in range(0, n, per):
        ids = [f"img/{i:03d}" for i in range(start, min(n, start + per))]
        yield ids, rng.standard_normal((len(ids), dim)).astype(np.float32)


def make_row(i: int, **extra) -> dict:
    row = {
        "image_id": f"synthetic/{i:05d}",
        "source": "synthetic",
        "image": png_bytes(i),
        "width": 16,
        "height": 16,
        "captions": [f"There are {i} planes in this image."],
        "objects": [{"label": "plane", "x0": 1.0, "y0": 2.0, "x1": 5.0, "y1": 6.0, "difficult": False}],
        "phash": (2**64 - 1) - i,
    }
    row.update(extra)
    return row


@pytest.fixture
def rows():
    return [make_row(i) for i in range(40)]
