"""iSAID instance segmentation: ``<split>/images/P0000.png`` with, beside it, ``P0000_instance_color_RGB.png``
(class colour map, iSAID devkit palette) and ``P0000_instance_id_RGB.png`` (instance id ``k`` encoded as
``R + 256 * G + 256 * 256 * B``; 0 = background). Instance ``k`` is the truth's object with
``instance_id == k``; scenes are DOTA-like (iSAID annotates DOTA images, same 15 classes).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..classes import DOTA_V1, ISAID_CLASSES, ISAID_PALETTE
from ..themes import sample_scene
from ..truth import ImageTruth, Truth
from ._base import atomic_output, finish, image_rng, object_truths, save_image, split_of

ISAID_LABELS = {c: c.replace(" ", "_") for c in ISAID_CLASSES[1:]}


def encode_ids(ids: np.ndarray) -> np.ndarray:
    """(H, W) int ids -> (H, W, 3) uint8 with id = R + 256 G + 65536 B."""
    ids = ids.astype(np.int64)
    return np.stack([ids & 255, (ids >> 8) & 255, (ids >> 16) & 255], -1).astype(np.uint8)


def write(out_dir: str | Path, n: int, seed: int = 0, size: int = 1024, overwrite: bool = False) -> Truth:
    truth = Truth(
        format="isaid",
        seed=seed,
        size=size,
        classes=list(ISAID_CLASSES),
        meta={"palette": [list(c) for c in ISAID_PALETTE]},
    )
    palette = np.asarray(ISAID_PALETTE, np.uint8)
    with atomic_output(out_dir, overwrite) as tmp:
        for i in range(n):
            rng = image_rng(seed, "isaid", i)
            scene = sample_scene(rng, size, set(DOTA_V1))
            split = split_of(seed, "isaid", i, (("train", 0.8), ("val", 0.2)))
            base, name = f"{split}/images", f"P{i:04d}"
            cls_of_id = np.zeros(len(scene.objects) + 1, np.uint8)
            for o in scene.objects:
                cls_of_id[o.instance_id] = ISAID_CLASSES.index(o.cls)
            save_image(scene.image, tmp / base / f"{name}.png")
            save_image(palette[cls_of_id[scene.instance_map]], tmp / base / f"{name}_instance_color_RGB.png")
            save_image(encode_ids(scene.instance_map), tmp / base / f"{name}_instance_id_RGB.png")
            objs = object_truths(scene, ISAID_LABELS)
            for o in objs:
                o.meta["pixels"] = int((scene.instance_map == o.instance_id).sum())
            truth.images.append(
                ImageTruth(
                    index=i,
                    image=f"{base}/{name}.png",
                    width=scene.width,
                    height=scene.height,
                    split=split,
                    labels=[f"{base}/{name}_instance_color_RGB.png", f"{base}/{name}_instance_id_RGB.png"],
                    ground=scene.ground,
                    water=scene.water,
                    theme=scene.theme,
                    objects=objs,
                )
            )
        return finish(truth, tmp)
