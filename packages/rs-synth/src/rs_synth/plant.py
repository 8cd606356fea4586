"""Leaks for de-duplication to find: evaluation images and repeated scenes planted among training scenes.

Real training corpora hold both: the same scene in two sources (DOTA, DIOR and others share Google Earth
imagery) and images of a benchmark's test split. RemoteCLIP de-duplicates its training data, against every
evaluation set too, for that reason; ``rs-synth dota --plant DIR --duplicates K`` gives the demo and the
tests something to find. Rules:

* A planted image is a copy of a scene's pixels saved as a new file of the output's format under a new name:
  another file, the same picture, which a perceptual hash cannot tell from the original. Altered copies are
  not planted: a 64-bit pHash is a median split of 64 coefficients (32 ones), so a change that moves one
  coefficient across the median flips two bits, past de-duplication's default threshold (fewer than 2 bits
  differ); raising brightness by 3% did that for a quarter of the demo's scenes.
* From each ``plant`` source (another rs-synth output, read through its ``_truth.json``) ``per_source``
  images are copied: from its ``test`` split when its truth has one (what an evaluation holds), else from all
  its images; only images with at least one object and every object of a class the output labels.
* ``duplicates`` of the output's own scenes are copied the same way.
* Which images: a function of the seed and the source's place in the list only. Each copy's truth records
  where it came from (``meta["planted"]``).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .scenes import Scene, SceneObject
from .truth import ImageTruth, Truth


@dataclass(frozen=True)
class Copy:
    scene: Scene  # the original's pixels and objects
    origin: dict[str, Any]  # what it copies: {"from": source directory or "self", "of": image, "split": ...}


def _choose(candidates: list[ImageTruth], k: int, seed: int, position: int, what: str) -> list[ImageTruth]:
    if k > len(candidates):
        raise ValueError(f"{what}: {len(candidates)} images to copy from, {k} asked for")
    rng = np.random.default_rng([int(seed), zlib.crc32(b"plant"), position])
    return [candidates[i] for i in sorted(rng.choice(len(candidates), size=k, replace=False))]


def _scene(root: Path, im: ImageTruth) -> Scene:
    """The scene an image of an rs-synth output shows, from its file and its truth."""
    with Image.open(root / im.image) as f:
        pixels = np.asarray(f.convert("RGB"))
    h, w = pixels.shape[:2]
    objects = [
        SceneObject(
            cls=o.cls,
            box=tuple(o.box),
            poly=[(x, y) for x, y in o.poly],
            angle=o.angle,
            instance_id=o.instance_id,
            center=tuple(np.mean(o.poly, axis=0).tolist()),
            size=0.0,
        )
        for o in im.objects
    ]
    return Scene(
        image=pixels,
        ground=im.ground,
        water=im.water,
        objects=objects,
        instance_map=np.zeros((h, w), np.int32),
        water_mask=np.zeros((h, w), bool),
        theme=im.theme,
    )


def _labelled(im: ImageTruth, labels: Mapping[str, str]) -> bool:
    return bool(im.objects) and all(o.cls in labels for o in im.objects)


def planted(
    sources: Sequence[str | Path], per_source: int, seed: int, labels: Mapping[str, str]
) -> list[Copy]:
    """``per_source`` copies from each rs-synth output in ``sources`` (see the module's rules)."""
    copies = []
    for position, source in enumerate(sources):
        root = Path(source)
        truth = Truth.load(root)
        split = "test" if any(im.split == "test" for im in truth.images) else None
        pool = [im for im in truth.images if (split is None or im.split == split) and _labelled(im, labels)]
        what = f"{root}" + (f" (its {split} split)" if split else "")
        for im in _choose(pool, per_source, seed, position + 1, what):
            origin = {"from": str(root.resolve()), "of": im.image, "split": im.split}
            copies.append(Copy(_scene(root, im), origin))
    return copies


def duplicated(root: Path, images: Sequence[ImageTruth], k: int, seed: int) -> list[Copy]:
    """``k`` copies of scenes the output already holds (``images``, written under ``root``)."""
    pool = [im for im in images if im.objects]
    return [
        Copy(_scene(root, im), {"from": "self", "of": im.image, "split": im.split})
        for im in _choose(pool, k, seed, 0, "the output's own scenes")
    ]
