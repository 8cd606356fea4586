"""Tiny images for the reader tests (a unique module name: other test folders have a conftest too)."""

from pathlib import Path

import numpy as np
from PIL import Image


def write_image(path: Path, size: tuple[int, int] = (8, 6), value: int = 0) -> Path:
    """A tiny image in the format its extension names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.full((size[1], size[0], 3), value % 256, np.uint8)
    Image.fromarray(arr).save(path)
    return path
