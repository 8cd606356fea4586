"""DOTA v1.0 ``labelTxt``: ``images/P0000.png`` + ``labelTxt/P0000.txt``.

Each label file starts with ``imagesource:<src>`` and ``gsd:<float>`` lines, then one object per line,
``x1 y1 x2 y2 x3 y3 x4 y4 class difficult`` with integer corners clockwise on screen, CRLF line endings and
hyphenated class names (``small-vehicle``), exactly as the DOTA devkit's original labels.
About 10% of images use the GF source with an integer ``gsd:1``, as real DOTA does.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..classes import DOTA_V1
from ..plant import duplicated, planted
from ..scenes import Scene
from ..themes import sample_scene
from ..truth import ImageTruth, Truth
from ._base import atomic_output, finish, image_rng, object_truths, save_image, split_of

DIFFICULT_RATE = 0.05


def format_labeltxt(objects, imagesource: str, gsd: str) -> str:
    """Text of one DOTA label file (CRLF) for truth objects whose ``label`` is the DOTA class."""
    lines = [f"imagesource:{imagesource}", f"gsd:{gsd}"]
    for o in objects:
        coords = " ".join(f"{round(x)} {round(y)}" for x, y in o.poly)
        lines.append(f"{coords} {o.label} {o.difficult}")
    return "".join(line + "\r\n" for line in lines)


def write_scene(
    tmp: Path,
    name: str,
    scene: Scene,
    rng,
    index: int,
    split: str,
    labels=DOTA_V1,
    difficult_rate: float = DIFFICULT_RATE,
) -> ImageTruth:
    """Write one scene as ``images/<name>.png`` + ``labelTxt/<name>.txt``; returns its truth."""
    objs = object_truths(scene, labels)
    for o in objs:
        o.difficult = int(rng.random() < difficult_rate)
    if rng.random() < 0.1:
        src, gsd = "GF", "1"
    else:
        src, gsd = "GoogleEarth", f"{rng.uniform(0.1, 0.9):.12g}"
    save_image(scene.image, tmp / "images" / f"{name}.png")
    lab = tmp / "labelTxt" / f"{name}.txt"
    lab.parent.mkdir(parents=True, exist_ok=True)
    lab.write_bytes(format_labeltxt(objs, src, gsd).encode("ascii"))
    return ImageTruth(
        index=index,
        image=f"images/{name}.png",
        width=scene.width,
        height=scene.height,
        split=split,
        labels=[f"labelTxt/{name}.txt"],
        ground=scene.ground,
        water=scene.water,
        theme=scene.theme,
        objects=objs,
        meta={"imagesource": src, "gsd": gsd},
    )


def write(
    out_dir: str | Path,
    n: int,
    seed: int = 0,
    size: int = 1024,
    overwrite: bool = False,
    plant: Sequence[str | Path] = (),
    plant_n: int = 2,
    duplicates: int = 0,
) -> Truth:
    """``n`` DOTA v1.0 scenes of ``size`` px with objects of the 15 DOTA classes, then ``plant_n`` copies of
    images of each rs-synth output in ``plant`` and ``duplicates`` copies of its own scenes
    (:mod:`rs_synth.plant`: leaks for de-duplication to find)."""
    truth = Truth(format="dota", seed=seed, size=size, classes=sorted(DOTA_V1.values()))
    with atomic_output(out_dir, overwrite) as tmp:
        for i in range(n):
            rng = image_rng(seed, "dota", i)
            scene = sample_scene(rng, size, set(DOTA_V1))
            truth.images.append(write_scene(tmp, f"P{i:04d}", scene, rng, i, split_of(seed, "dota", i)))
        copies = planted(plant, plant_n, seed, DOTA_V1) + duplicated(tmp, truth.images, duplicates, seed)
        for i, copy in enumerate(copies, start=n):
            im = write_scene(
                tmp,
                f"P{i:04d}",
                copy.scene,
                image_rng(seed, "dota", i),
                i,
                split_of(seed, "dota", i),
                difficult_rate=0.0,
            )
            im.meta["planted"] = copy.origin
            truth.images.append(im)
        if copies:
            truth.meta["planted"] = {
                "sources": [str(Path(p).resolve()) for p in plant],
                "per_source": plant_n,
                "duplicates": duplicates,
            }
        return finish(truth, tmp)
