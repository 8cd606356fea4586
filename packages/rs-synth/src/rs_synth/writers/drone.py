"""Drone detection sets: AU-AIR (one JSON), CARPK (per-image box text), VisDrone-DET (per-image CSV-like text).

AU-AIR::

    images/frame_20190829091111_x_0001973.jpg
    annotations.json   {"info", "licenses", "categories": ["Human", "Car", ...],
                        "annotations": [{"image_name", "image_width": 1920.0, "image_height": 1080.0, "platform",
                                         "time": {...}, "longtitude", "latitude", "altitude", "linear_x/y/z",
                                         "angle_phi/theta/psi", "bbox": [{"top", "left", "height", "width",
                                         "class"}]}]}    (single line, like the real file)

CARPK::

    Images/20160331_NTU_00001.png
    Annotations/20160331_NTU_00001.txt   "x1 y1 x2 y2 1" per car
    ImageSets/{train,test}.txt

    (``layout="release"``: the release's two devkits, ``CARPK_devkit/data/`` and ``PUCPR+_devkit/data/``,
    each as above, the last third of the images in PUCPR+)

VisDrone-DET::

    VisDrone2019-DET-{train,val,test-dev}/images/0000001_00000_d_0000001.jpg
    VisDrone2019-DET-{train,val,test-dev}/annotations/0000001_00000_d_0000001.txt
        "x,y,w,h,score,category,truncation,occlusion"; category 0 = ignored region (score 0),
        1 pedestrian ... 10 motor, 11 others

AU-AIR and CARPK frames are 16:9 (``size`` = width).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..classes import AUAIR, VISDRONE
from ..streets import parking_scene, street_scene
from ..truth import ImageTruth, ObjectTruth, Truth
from ._base import atomic_output, finish, image_rng, object_truths, save_image, split_of


def _wanted(rng, table: list[tuple[str, float]], lo: int, hi: int) -> list[str]:
    names = [c for c, _ in table]
    p = np.array([wt for _, wt in table])
    return list(rng.choice(names, size=int(rng.integers(lo, hi + 1)), p=p / p.sum()))


def _ibox(box, w, h):
    x0, y0, x1, y1 = box
    return max(0, math.floor(x0)), max(0, math.floor(y0)), min(w, math.ceil(x1)), min(h, math.ceil(y1))


AUAIR_MIX = [
    ("person", 3),
    ("small vehicle", 6),
    ("large vehicle", 1),
    ("van", 1.5),
    ("motorcycle", 1),
    ("bicycle", 1),
    ("bus", 0.6),
    ("trailer", 0.4),
]


def write_auair(
    out_dir: str | Path, n: int, seed: int = 0, size: int = 1920, overwrite: bool = False
) -> Truth:
    w, h = size, size * 9 // 16
    label_of = {shape: k for k, (_, shape) in enumerate(AUAIR)}
    truth = Truth(format="auair", seed=seed, size=size, classes=[c for c, _ in AUAIR])
    anns = []
    with atomic_output(out_dir, overwrite) as tmp:
        for i in range(n):
            rng = image_rng(seed, "auair", i)
            scene = street_scene(rng, (w, h), _wanted(rng, AUAIR_MIX, 3, 14), scale=1.6)
            month, day = int(rng.integers(8, 10)), int(rng.integers(1, 29))
            hh, mm, ss = int(rng.integers(8, 18)), int(rng.integers(60)), int(rng.integers(60))
            name = f"frame_2019{month:02d}{day:02d}{hh:02d}{mm:02d}{ss:02d}_x_{i + 1:07d}.jpg"
            objs = object_truths(scene, label_of)
            boxes = []
            for o in objs:
                x0, y0, x1, y1 = _ibox(o.box, w, h)
                boxes.append(
                    {"top": y0, "left": x0, "height": y1 - y0, "width": x1 - x0, "class": int(o.label)}
                )
            anns.append(
                {
                    "image_name": name,
                    "image_width": float(w),
                    "image_height": float(h),
                    "platform": "Parrot Bebop 2",
                    "time": {
                        "year": 2019,
                        "month": month,
                        "day": day,
                        "hour": hh,
                        "min": mm,
                        "sec": ss,
                        "ms": float(rng.integers(0, 999999)),
                    },
                    "longtitude": 10.18 + float(rng.uniform(0, 0.02)),
                    "latitude": 56.2 + float(rng.uniform(0, 0.02)),
                    "altitude": float(rng.uniform(4000, 30000)),
                    "linear_x": float(rng.normal(0, 0.05)),
                    "linear_y": float(rng.normal(0, 0.05)),
                    "linear_z": float(rng.normal(0, 0.05)),
                    "angle_phi": float(rng.normal(0, 0.05)),
                    "angle_theta": float(rng.normal(0, 0.05)),
                    "angle_psi": float(rng.uniform(-3, 3)),
                    "bbox": boxes,
                }
            )
            save_image(scene.image, tmp / "images" / name)
            truth.images.append(
                ImageTruth(
                    index=i,
                    image=f"images/{name}",
                    width=w,
                    height=h,
                    split=split_of(seed, "auair", i),
                    labels=["annotations.json"],
                    ground=scene.ground,
                    theme=scene.theme,
                    objects=objs,
                )
            )
        doc = {
            "info": {
                "description": "rs-synth synthetic AU-AIR-style frames",
                "url": "",
                "version": "1.0",
                "year": "2019",
                "contributor": "rs-synth",
                "date_created": "2019/10/01",
            },
            "licenses": [{"url": "", "id": 1, "name": "synthetic"}],
            "categories": [c for c, _ in AUAIR],
            "annotations": anns,
        }
        (tmp / "annotations.json").write_text(json.dumps(doc), encoding="utf-8")
        return finish(truth, tmp)


def write_carpk(
    out_dir: str | Path,
    n: int,
    seed: int = 0,
    size: int = 1280,
    overwrite: bool = False,
    layout: str = "devkit",
) -> Truth:
    if layout not in ("devkit", "release"):
        raise ValueError(f"layout must be 'devkit' or 'release', got {layout!r}")
    w, h = size, size * 9 // 16
    truth = Truth(format="carpk", seed=seed, size=size, classes=["car"])
    n_carpk = n - n // 3 if layout == "release" else n
    with atomic_output(out_dir, overwrite) as tmp:
        for folder, indices in (
            [("", range(n))]
            if layout == "devkit"
            else [("CARPK_devkit/data/", range(n_carpk)), ("PUCPR+_devkit/data/", range(n_carpk, n))]
        ):
            sets: dict[str, list[str]] = {"train": [], "test": []}
            root = tmp / folder
            for i in indices:
                rng = image_rng(seed, "carpk", i)
                scene = parking_scene(rng, (w, h))
                name = f"20160331_NTU_{i + 1:05d}"
                objs = object_truths(scene, {"small vehicle": "1"})
                lines = "".join("{} {} {} {} 1\n".format(*_ibox(o.box, w, h)) for o in objs)
                save_image(scene.image, root / "Images" / f"{name}.png")
                (root / "Annotations").mkdir(exist_ok=True)
                (root / "Annotations" / f"{name}.txt").write_text(lines, encoding="ascii")
                split = split_of(seed, "carpk", i, (("train", 0.7), ("test", 0.3)))
                sets[split].append(name)
                truth.images.append(
                    ImageTruth(
                        index=i,
                        image=f"{folder}Images/{name}.png",
                        width=w,
                        height=h,
                        split=split,
                        labels=[f"{folder}Annotations/{name}.txt"],
                        ground="concrete",
                        theme="parking",
                        objects=objs,
                        meta={"count": len(objs)},
                    )
                )
            (root / "ImageSets").mkdir()
            for split, names in sets.items():
                (root / "ImageSets" / f"{split}.txt").write_text(
                    "".join(x + "\n" for x in names), encoding="ascii"
                )
        return finish(truth, tmp)


VISDRONE_MIX = [
    ("person", 4),
    ("small vehicle", 6),
    ("van", 1.5),
    ("large vehicle", 1),
    ("bicycle", 1),
    ("motorcycle", 2),
    ("tricycle", 0.6),
    ("awning tricycle", 0.4),
    ("bus", 0.6),
    ("cart", 0.3),
]
_VIS_DIR = {
    "train": "VisDrone2019-DET-train",
    "val": "VisDrone2019-DET-val",
    "test": "VisDrone2019-DET-test-dev",
}


def write_visdrone(
    out_dir: str | Path, n: int, seed: int = 0, size: int = 1360, overwrite: bool = False
) -> Truth:
    """Persons are labelled 1 (pedestrian) or 2 (people) at random; about half the frames have one ignored
    region (category 0, score 0) drawn as a crowd of tiny unlabelled vehicles."""
    w, h = size, size * 3 // 4
    cat_of = {shape: k for k, (_, shape) in VISDRONE.items() if shape and k != 2}
    truth = Truth(format="visdrone", seed=seed, size=size, classes=[name for name, _ in VISDRONE.values()])
    with atomic_output(out_dir, overwrite) as tmp:
        for i in range(n):
            rng = image_rng(seed, "visdrone", i)
            scene = street_scene(rng, (w, h), _wanted(rng, VISDRONE_MIX, 5, 25), scale=1.3)
            objs = object_truths(scene, cat_of)
            for o in objs:
                if o.cls == "person" and rng.random() < 0.3:
                    o.label = "2"
                o.meta.update(score=1, truncation=0, occlusion=int(rng.random() < 0.1))
            image = scene.image
            if rng.random() < 0.5:
                image, region = _ignored_region(rng, image, scene)
                if region is not None:
                    objs.append(region)
            split = split_of(seed, "visdrone", i)
            name = f"{i + 1:07d}_{i % 100:05d}_d_{i + 1:07d}"
            base = _VIS_DIR[split]
            lines = []
            for o in objs:
                x0, y0, x1, y1 = _ibox(o.box, w, h)
                lines.append(
                    f"{x0},{y0},{x1 - x0},{y1 - y0},{o.meta['score']},{o.label},{o.meta['truncation']},"
                    f"{o.meta['occlusion']}\n"
                )
            save_image(image, tmp / base / "images" / f"{name}.jpg")
            (tmp / base / "annotations").mkdir(parents=True, exist_ok=True)
            (tmp / base / "annotations" / f"{name}.txt").write_text("".join(lines), encoding="ascii")
            truth.images.append(
                ImageTruth(
                    index=i,
                    image=f"{base}/images/{name}.jpg",
                    width=w,
                    height=h,
                    split=split,
                    labels=[f"{base}/annotations/{name}.txt"],
                    ground=scene.ground,
                    theme=scene.theme,
                    objects=objs,
                )
            )
        return finish(truth, tmp)


def _ignored_region(rng, image: np.ndarray, scene) -> tuple[np.ndarray, ObjectTruth | None]:
    """Paint a crowd of tiny vehicles into a free rectangle and return it as an ignored region."""
    h, w = image.shape[:2]
    rw, rh = rng.uniform(0.12, 0.22) * w, rng.uniform(0.08, 0.14) * h
    for _ in range(20):
        x0, y0 = rng.uniform(0, w - rw), rng.uniform(0, h - rh)
        if all(
            o.box[2] < x0 or o.box[0] > x0 + rw or o.box[3] < y0 or o.box[1] > y0 + rh for o in scene.objects
        ):
            break
    else:
        return image, None
    img = Image.fromarray(image)
    d = ImageDraw.Draw(img)
    cw, ch = max(2.0, rw / 14), max(2.0, rh / 8)
    for yy in np.arange(y0 + 1, y0 + rh - ch, ch * 1.4):
        for xx in np.arange(x0 + 1, x0 + rw - cw, cw * 1.3):
            c = tuple(int(v) for v in rng.integers(40, 230, 3))
            d.rectangle([xx, yy, xx + cw, yy + ch * 0.6], fill=c)
    box = [round(x0, 2), round(y0, 2), round(x0 + rw, 2), round(y0 + rh, 2)]
    poly = [[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]]
    return np.asarray(img), ObjectTruth(
        cls="ignored regions",
        label="0",
        box=box,
        poly=poly,
        meta={"score": 0, "truncation": 0, "occlusion": 0},
    )
