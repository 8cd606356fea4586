"""Counting scenes for RemoteCount: 1..10 objects of ONE of the 13 RemoteCount classes per image, written
as DOTA v1.0 ``labelTxt`` (so the counting benchmark can be built from DOTA labels) and balanced over counts
and classes: image ``i`` shows ``i % 10 + 1`` objects of class ``REMOTECOUNT[(i // 10) % 13]``.

The truth's ``meta`` holds ``count`` and ``count_class`` (natural name) for every image.
"""

from __future__ import annotations

from pathlib import Path

from ..classes import DOTA_V1, REMOTECOUNT
from ..themes import counting_scene
from ..truth import Truth
from ._base import atomic_output, finish, image_rng, split_of
from .dota import write_scene

MAX_COUNT = 10


def count_and_class(index: int, max_count: int = MAX_COUNT) -> tuple[int, str]:
    return index % max_count + 1, REMOTECOUNT[(index // max_count) % len(REMOTECOUNT)]


def write(
    out_dir: str | Path,
    n: int,
    seed: int = 0,
    size: int = 256,
    overwrite: bool = False,
    max_count: int = MAX_COUNT,
) -> Truth:
    """``n`` counting scenes (DOTA labelTxt layout) of ``size`` px."""
    truth = Truth(
        format="counting",
        seed=seed,
        size=size,
        classes=[DOTA_V1[c] for c in REMOTECOUNT],
        meta={"max_count": max_count, "count_classes": list(REMOTECOUNT)},
    )
    with atomic_output(out_dir, overwrite) as tmp:
        for i in range(n):
            rng = image_rng(seed, "counting", i)
            count, cls = count_and_class(i, max_count)
            scene = counting_scene(rng, size, cls, count)
            # difficult=0 throughout: every object counts.
            im = write_scene(
                tmp, f"P{i:04d}", scene, rng, i, split_of(seed, "counting", i), difficult_rate=0.0
            )
            im.meta.update(count=count, count_class=cls)
            truth.images.append(im)
        return finish(truth, tmp)
