"""LEVIR (Zou & Shi, 2018) detection: ``imageWithLabel/<name>.jpg`` with ``<name>.txt`` beside it, one
object per line ``class_id x1 y1 x2 y2`` (space-separated integer pixels, LF), classes 1 = airplane,
2 = ship, 3 = oil tank. Images are 800 x 600 in LEVIR: ``size`` is the width, height = 3/4 of it.
(The label convention follows public LEVIR loaders; the dataset itself ships no format document.)
"""

from __future__ import annotations

import math
from pathlib import Path

from ..classes import LEVIR
from ..themes import sample_scene
from ..truth import ImageTruth, Truth
from ._base import atomic_output, finish, image_rng, object_truths, save_image, split_of


def write(out_dir: str | Path, n: int, seed: int = 0, size: int = 800, overwrite: bool = False) -> Truth:
    w, h = size, size * 3 // 4
    truth = Truth(
        format="levir",
        seed=seed,
        size=size,
        classes=["1", "2", "3"],
        meta={"class_ids": {"1": "plane", "2": "ship", "3": "oil tank"}},
    )
    with atomic_output(out_dir, overwrite) as tmp:
        d = tmp / "imageWithLabel"
        d.mkdir()
        for i in range(n):
            rng = image_rng(seed, "levir", i)
            scene = sample_scene(rng, (w, h), set(LEVIR))
            name = str(10001 + i)
            objs = object_truths(scene, LEVIR)
            lines = []
            for o in objs:
                x0, y0, x1, y1 = o.box
                x0, y0 = max(0, math.floor(x0)), max(0, math.floor(y0))
                x1, y1 = min(w, math.ceil(x1)), min(h, math.ceil(y1))
                lines.append(f"{o.label} {x0} {y0} {x1} {y1}\n")
            save_image(scene.image, d / f"{name}.jpg")
            (d / f"{name}.txt").write_text("".join(lines), encoding="ascii")
            truth.images.append(
                ImageTruth(
                    index=i,
                    image=f"imageWithLabel/{name}.jpg",
                    width=w,
                    height=h,
                    split=split_of(seed, "levir", i),
                    labels=[f"imageWithLabel/{name}.txt"],
                    ground=scene.ground,
                    water=scene.water,
                    theme=scene.theme,
                    objects=objs,
                )
            )
        return finish(truth, tmp)
