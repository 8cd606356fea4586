"""Small synthetic evaluation sets written directly as rs-datasets (for rs-clip-eval's tests and benchmark).

Each image shows 1-4 objects of one class on a fitting ground (:func:`rs_synth.themes.counting_scene`), so
the class is what a model must recognise:

* :func:`write_captions_dataset`: kind ``captions`` (retrieval), five captions per image from
  :func:`rs_synth.captions.scene_captions` (RSICD style, worded through :mod:`rs_formats.wording`);
* :func:`write_classification_dataset`: kind ``classification`` with ``train`` and ``test`` splits,
  ``class_names`` in the manifest and a ``label`` per row.

Unlike the format writers (real source formats, for the readers), these skip the conversion step: an
evaluation test needs a dataset, not a source. Row ``i`` depends only on (seed, i).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from rs_formats import DatasetWriter
from rs_formats.console import package_version
from rs_formats.pixel_limits import STORED_FORMATS

from .captions import scene_captions
from .themes import counting_scene

DEMO_CLASSES = (
    "plane",
    "ship",
    "storage tank",
    "tennis court",
    "swimming pool",
    "roundabout",
    "baseball diamond",
    "bridge",
)
_GENERATOR = f"rs-synth {package_version('rs-synth')}"


def _encode(image: np.ndarray, image_format: str) -> bytes:
    pil = STORED_FORMATS.get(image_format)
    if pil is None:
        raise ValueError(f"image_format must be one of {', '.join(STORED_FORMATS)}, got {image_format!r}")
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format=pil, **({"quality": 90} if pil == "JPEG" else {}))
    return buf.getvalue()


def scene_rows(
    classes: Sequence[str], n: int, seed: int, size: int = 64, image_format: str = "jpeg", prefix: str = "img"
) -> Iterator[dict[str, Any]]:
    """``n`` rows in the rs-dataset schema (plus ``label``) cycling through ``classes``; row ``i`` depends
    only on (``seed``, ``i``)."""
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        label = i % len(classes)
        cls = classes[label]
        count = int(rng.integers(1, 5))
        scene = counting_scene(rng, size, cls, count, grid=2)
        yield {
            "image_id": f"{prefix}/{i:06d}",
            "source": "rs-synth",
            "image": _encode(scene.image, image_format),
            "width": scene.width,
            "height": scene.height,
            "label": label,
            "captions": scene_captions(rng, scene),
        }


def write_captions_dataset(
    out: str | Path,
    n_images: int = 48,
    classes: Sequence[str] = DEMO_CLASSES,
    seed: int = 0,
    size: int = 64,
    name: str = "synthetic-captions",
    split: str = "test",
    image_format: str = "jpeg",
    row_group_rows: int = 256,
) -> Path:
    """A captions rs-dataset of ``n_images`` images (one split) for retrieval.

    Args:
        out: the dataset directory to write.
        n_images: how many images; they cycle through ``classes``.
        classes: the classes drawn (natural names), 1-4 objects of one class per image.
        seed: row ``i`` depends only on (``seed``, ``i``).
        size: the images' side in pixels.
        name: the dataset's name, also the prefix of its image ids.
        split: the one split written.
        image_format: one of ``rs_formats.pixel_limits.STORED_FORMATS``.
        row_group_rows: rows per Parquet row group.

    Returns:
        ``out`` as a Path.
    """
    with DatasetWriter(
        out, name=name, kind="captions", generator=_GENERATOR, row_group_rows=row_group_rows
    ) as w:
        for row in scene_rows(classes, n_images, seed, size, image_format, prefix=name):
            row.pop("label")
            w.write(row, split)
        w.add_source("rs-synth", license="CC0-1.0", n_images=n_images)
    return Path(out)


def write_classification_dataset(
    out: str | Path,
    n_train: int = 96,
    n_test: int = 48,
    classes: Sequence[str] = DEMO_CLASSES,
    seed: int = 1,
    size: int = 64,
    name: str = "synthetic-scenes",
    image_format: str = "jpeg",
) -> Path:
    """A classification rs-dataset with ``train`` and ``test`` splits (drawn from different seeds).

    Args:
        out: the dataset directory to write.
        n_train, n_test: images per split; they cycle through ``classes``.
        classes: the class names (label ``i`` is ``classes[i]``).
        seed: the train split's seed; the test split's is ``seed + 1000``.
        size: the images' side in pixels.
        name: the dataset's name, also the prefix of its image ids.
        image_format: one of ``rs_formats.pixel_limits.STORED_FORMATS``.

    Returns:
        ``out`` as a Path.
    """
    with DatasetWriter(
        out, name=name, kind="classification", class_names=list(classes), generator=_GENERATOR
    ) as w:
        for split, n, s in (("train", n_train, seed), ("test", n_test, seed + 1000)):
            for row in scene_rows(classes, n, s, size, image_format, prefix=f"{name}/{split}"):
                row.pop("captions")
                w.write(row, split)
        w.add_source("rs-synth", license="CC0-1.0", n_images=n_train + n_test)
    return Path(out)
