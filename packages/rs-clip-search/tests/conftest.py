from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("OMP_NUM_THREADS", "1")

#: Mean colours of rs-synth's ground textures (measured on its scenes): the test model's vocabulary.
GROUND_COLOURS = {
    "water": (39, 79, 123),
    "desert": (196, 169, 120),
    "forest": (33, 67, 31),
    "grass": (88, 128, 62),
    "concrete": (149, 147, 142),
    "urban": (123, 114, 110),
}


def _feature(rgb: np.ndarray) -> np.ndarray:
    r, g, b = (rgb / 255.0).tolist()
    v = np.array([r - g, g - b, b - r, (r + g + b) / 3 - 0.45, r, g, b, 0.1], dtype=np.float64)
    return (v / np.linalg.norm(v)).astype(np.float32)


class ColourEncoder:
    """A deterministic stand-in for a CLIP model: a tile's vector is a function of its mean colour, and a
    text's vector is that of the mean colour of the ground it names (words it does not know share one
    neutral vector). A random-init CLIP would not rank scenes by meaning; this one ranks them by colour,
    which rs-synth's grounds make a known answer."""

    fingerprint = "test:colour-encoder"

    def __init__(self):
        self.calls = 0  # tiles embedded so far

    def images(self, tiles):
        self.calls += len(tiles)
        return np.stack([_feature(np.asarray(t, dtype=np.float64).reshape(-1, 3).mean(0)) for t in tiles])

    def texts(self, texts):
        out = []
        for text in texts:
            words = [w for w in text.lower().replace(",", " ").split() if w in GROUND_COLOURS]
            rgb = (
                np.mean([GROUND_COLOURS[w] for w in words], axis=0) if words else np.array([128.0, 128, 128])
            )
            out.append(_feature(np.asarray(rgb)))
        return np.stack(out)


@pytest.fixture
def encoder() -> ColourEncoder:
    return ColourEncoder()


def write_scene(path: Path, ground: str, size: tuple[int, int] = (160, 224), seed: int = 0) -> Path:
    """An rs-synth scene of ``ground`` (width, height) as a JPEG or PNG (by suffix)."""
    from rs_synth import compose_scene

    scene = compose_scene(np.random.default_rng(seed), size, ground, [])
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(scene.image).save(path)
    return path


@pytest.fixture
def archive(tmp_path) -> Path:
    """A small archive: three grounds in two folders."""
    root = tmp_path / "archive"
    write_scene(root / "coast" / "water.png", "water", seed=1)
    write_scene(root / "coast" / "desert.jpg", "desert", seed=2)
    write_scene(root / "inland" / "forest.png", "forest", seed=3)
    return root
