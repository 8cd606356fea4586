"""Shared fixtures: a small learnable caption dataset, the CPU environment, one Ray per module."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# What the CPU path needs (the package sets these itself too; tests pin them before anything imports).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("DS_ACCELERATOR", "cpu")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

def write_caption_dataset(path: Path, n: int = 192, seed: int = 0, row_group_rows: int = 32,
                          kind: str = "captions", name: str = "synth-rsicd", size: int = 96,
                          splits: tuple[str, ...] = ("train",)) -> Path:
    """An rs-dataset v1 of ``n`` rs-synth aerial scenes with their five captions, written through rs_formats;
    row ``i`` goes to ``splits[i % len(splits)]``.

    rs-synth writes RSICD-style files (what rs-annotate would convert); packing them here directly keeps
    these tests independent of rs-annotate.
    """
    from rs_formats import DatasetWriter
    from rs_synth import FORMATS

    with tempfile.TemporaryDirectory() as tmp:
        truth = FORMATS["rsicd"].write(Path(tmp) / "rsicd", n=n, seed=seed, size=size)
        with DatasetWriter(path, name=name, kind=kind, generator="rs-clip-train tests",
                           class_names=["scene"] if kind == "classification" else None,
                           row_group_rows=row_group_rows) as w:
            for im in truth.images:
                w.write({"image_id": f"{name}/{im.index:05d}", "source": name,
                         "image": (Path(tmp) / "rsicd" / im.image).read_bytes(), "width": im.width,
                         "height": im.height, "captions": list(im.captions),
                         "label": 0 if kind == "classification" else None}, split=splits[im.index % len(splits)])
    return path


@pytest.fixture(scope="session")
def caption_ds(tmp_path_factory) -> Path:
    return write_caption_dataset(tmp_path_factory.mktemp("data") / "toy")
