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
