"""Small synthetic evaluation sets drawn with rs-synth (for the ``demo`` suite, tests and benchmarks).

Each image shows 1-4 objects of one class on a fitting ground (rs_synth.scenes.counting_scene), so the
class is what a model must recognise: a captions dataset for retrieval (5 captions per image, Karpathy
style) and a classification dataset with train/test splits. Needs the ``rs-synth`` package.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rs_formats import DatasetWriter

DEMO_CLASSES = ("plane", "ship", "storage tank", "tennis court", "swimming pool", "roundabout",
                "baseball diamond", "bridge")
_NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def _synth():
    try:
        from rs_synth import scenes
        from rs_synth.classes import plural
    except ImportError as exc:
        raise RuntimeError(f"synthetic datasets need the rs-synth package (pip install rs-synth): {exc}") from None
    return scenes, plural


def _encode(image: np.ndarray, fmt: str) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


def _captions(cls: str, n: int, ground: str, plural) -> list[str]:
    many = plural(cls, n)
    return [
        f"a satellite photo of {_NUMBERS[n]} {many}.",
        f"{n} {many} seen from above.",
        f"an aerial image with {_NUMBERS[n]} {many} on {ground}.",
        f"there {'is' if n == 1 else 'are'} {_NUMBERS[n]} {many} in this remote sensing image.",
        f"{_NUMBERS[n]} {many}.".capitalize(),
    ]


def scene_rows(classes: Sequence[str], n: int, seed: int, size: int = 64, fmt: str = "JPEG", prefix: str = "img"):
    """``n`` rows (dicts in the rs-dataset schema) cycling through ``classes``; deterministic in ``seed``."""
    scenes, plural = _synth()
    rng = np.random.default_rng(seed)
    for i in range(n):
        label = i % len(classes)
        cls = classes[label]
        count = int(rng.integers(1, 5))
        scene = scenes.counting_scene(rng, size, cls, count, grid=2)
        yield {
            "image_id": f"{prefix}/{i:06d}", "source": "rs-synth", "image": _encode(scene.image, fmt),
            "width": scene.width, "height": scene.height, "label": label,
            "captions": _captions(cls, count, scene.ground, plural),
        }


def write_captions_dataset(out: Path, n_images: int = 48, classes: Sequence[str] = DEMO_CLASSES, seed: int = 0,
                           size: int = 64, name: str = "synthetic-captions", split: str = "test",
                           fmt: str = "JPEG", row_group_rows: int = 256) -> Path:
    with DatasetWriter(out, name=name, kind="captions", generator="rs-clip-eval synthetic",
                       row_group_rows=row_group_rows) as w:
        for row in scene_rows(classes, n_images, seed, size, fmt, prefix=name):
            row.pop("label")
            w.write(row, split)
        w.add_source("rs-synth", license="CC0-1.0", n_images=n_images)
    return out


def write_classification_dataset(out: Path, n_train: int = 96, n_test: int = 48,
                                 classes: Sequence[str] = DEMO_CLASSES, seed: int = 1, size: int = 64,
                                 name: str = "synthetic-scenes", fmt: str = "JPEG") -> Path:
    with DatasetWriter(out, name=name, kind="classification", class_names=list(classes),
                       generator="rs-clip-eval synthetic") as w:
        for split, n, s in (("train", n_train, seed), ("test", n_test, seed + 1000)):
            for row in scene_rows(classes, n, s, size, fmt, prefix=f"{name}/{split}"):
                row.pop("captions")
                w.write(row, split)
        w.add_source("rs-synth", license="CC0-1.0", n_images=n_train + n_test)
    return out


def write_demo_datasets(data_dir: Path) -> tuple[Path, Path]:
    """The demo suite's two datasets, generated once (reused when already there)."""
    data_dir = Path(data_dir)
    caps, cls = data_dir / "synthetic-captions", data_dir / "synthetic-scenes"
    if not (caps / "manifest.json").is_file():
        write_captions_dataset(caps)
    if not (cls / "manifest.json").is_file():
        write_classification_dataset(cls)
    return caps, cls
