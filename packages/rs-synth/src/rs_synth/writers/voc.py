"""Pascal-VOC XML detection sets of the DIOR / HRRSD / RSOD family, each in its own real layout and style.

- ``dior``: ``JPEGImages-trainval/`` + ``JPEGImages-test/``, ``Annotations/00001.xml`` (4-space indent, XML
  declaration), ``ImageSets/Main/{train,val,test}.txt``; DIOR's 20 class names (``airplane``,
  ``storagetank``, ``Expressway-toll-station``, ...).
- ``hrrsd``: ``OPT2017/JPEGImages``, ``OPT2017/Annotations`` (tab indent, ``<folder>OPTIMAL_Z``, an
  ``<owner><name>`` element that is NOT an object name, ``<pose>overlook``), ``OPT2017/ImageSets/Main``;
  13 class names with spaces (``storage tank``, ``T junction``).
- ``rsod``: one folder per class, ``<class>/JPEGImages/<class>_1.jpg`` + ``<class>/Annotation/xml/<class>_1.xml``
  (labelImg style), classes ``aircraft``, ``oiltank``, ``overpass``, ``playground``.

Boxes are integer pixels: ``xmin = floor(x0)``, ``xmax = ceil(x1)``, clamped to the image.
"""

from __future__ import annotations

import math
from pathlib import Path

from ..classes import DIOR, HRRSD, RSOD
from ..themes import compose_scene, sample_scene
from ..truth import ImageTruth, Truth
from ._base import atomic_output, finish, image_rng, object_truths, save_image, split_of


def _ibox(box, w: int, h: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    return (max(0, math.floor(x0)), max(0, math.floor(y0)), min(w, math.ceil(x1)), min(h, math.ceil(y1)))


def _tree(node, ind: str, level: int = 0) -> str:
    """Serialise (tag, text-or-children) tuples with a fixed indent string."""
    tag, val = node
    pad = ind * level
    if isinstance(val, list):
        inner = "".join(_tree(c, ind, level + 1) for c in val)
        return f"{pad}<{tag}>\n{inner}{pad}</{tag}>\n"
    return f"{pad}<{tag}>{val}</{tag}>\n"


def _objects(objs, w, h, pose: str, extra_difficult: bool = True):
    out = []
    for o in objs:
        x0, y0, x1, y1 = _ibox(o.box, w, h)
        fields = [("name", o.label), ("pose", pose), ("truncated", 0)]
        if extra_difficult:
            fields.append(("difficult", o.difficult))
        fields.append(("bndbox", [("xmin", x0), ("ymin", y0), ("xmax", x1), ("ymax", y1)]))
        out.append(("object", fields))
    return out


def dior_xml(fname: str, objs, w: int, h: int) -> str:
    root = (
        "annotation",
        [
            ("filename", fname),
            ("source", [("database", "DIOR")]),
            ("size", [("width", w), ("height", h), ("depth", 3)]),
            ("segmented", 0),
            *_objects(objs, w, h, "Unspecified"),
        ],
    )
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + _tree(root, "    ")


def hrrsd_xml(fname: str, objs, w: int, h: int) -> str:
    root = (
        "annotation",
        [
            ("folder", "OPTIMAL_Z"),
            ("filename", fname),
            (
                "source",
                [
                    ("database", "The OPTIMAL_Z Database"),
                    ("annotation", "OPTIMAL_Z_anno"),
                    ("image", "OPTIMAL_Z_img"),
                    ("flickrid", "NULL"),
                ],
            ),
            ("owner", [("flickrid", "NULL"), ("name", "snail_crowling")]),
            ("size", [("width", w), ("height", h), ("depth", 3)]),
            ("segmented", 0),
            *_objects(objs, w, h, "overlook"),
        ],
    )
    return _tree(root, "\t")


def rsod_xml(folder: str, fname: str, objs, w: int, h: int) -> str:
    root = (
        "annotation",
        [
            ("folder", folder),
            ("filename", fname),
            ("path", f"{folder}/JPEGImages/{fname}"),
            ("source", [("database", "Unknown")]),
            ("size", [("width", w), ("height", h), ("depth", 3)]),
            ("segmented", 0),
            *_objects(objs, w, h, "Unspecified"),
        ],
    )
    return _tree(root, "\t")


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_dior(out_dir: str | Path, n: int, seed: int = 0, size: int = 800, overwrite: bool = False) -> Truth:
    """``n`` DIOR-style scenes (default 800 px, as DIOR)."""
    truth = Truth(format="dior", seed=seed, size=size, classes=sorted(DIOR.values()))
    sets: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    with atomic_output(out_dir, overwrite) as tmp:
        for i in range(n):
            rng = image_rng(seed, "dior", i)
            scene = sample_scene(rng, size, set(DIOR))
            name, split = f"{i + 1:05d}", split_of(seed, "dior", i)
            objs = object_truths(scene, DIOR)
            img_dir = "JPEGImages-test" if split == "test" else "JPEGImages-trainval"
            save_image(scene.image, tmp / img_dir / f"{name}.jpg")
            _write_text(
                tmp / "Annotations" / f"{name}.xml", dior_xml(f"{name}.jpg", objs, scene.width, scene.height)
            )
            sets[split].append(name)
            truth.images.append(
                ImageTruth(
                    index=i,
                    image=f"{img_dir}/{name}.jpg",
                    width=scene.width,
                    height=scene.height,
                    split=split,
                    labels=[f"Annotations/{name}.xml"],
                    ground=scene.ground,
                    water=scene.water,
                    theme=scene.theme,
                    objects=objs,
                )
            )
        for split, names in sets.items():
            _write_text(tmp / "ImageSets" / "Main" / f"{split}.txt", "".join(x + "\n" for x in names))
        return finish(truth, tmp)


def write_hrrsd(
    out_dir: str | Path, n: int, seed: int = 0, size: int = 1024, overwrite: bool = False
) -> Truth:
    """``n`` HRRSD-style scenes under ``OPT2017/``."""
    truth = Truth(format="hrrsd", seed=seed, size=size, classes=sorted(HRRSD.values()))
    sets: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    with atomic_output(out_dir, overwrite) as tmp:
        base = tmp / "OPT2017"
        for i in range(n):
            rng = image_rng(seed, "hrrsd", i)
            scene = sample_scene(rng, size, set(HRRSD))
            name, split = f"{i + 1:05d}", split_of(seed, "hrrsd", i)
            objs = object_truths(scene, HRRSD)
            save_image(scene.image, base / "JPEGImages" / f"{name}.jpg")
            _write_text(
                base / "Annotations" / f"{name}.xml",
                hrrsd_xml(f"{name}.jpg", objs, scene.width, scene.height),
            )
            sets[split].append(name)
            truth.images.append(
                ImageTruth(
                    index=i,
                    image=f"OPT2017/JPEGImages/{name}.jpg",
                    width=scene.width,
                    height=scene.height,
                    split=split,
                    labels=[f"OPT2017/Annotations/{name}.xml"],
                    ground=scene.ground,
                    water=scene.water,
                    theme=scene.theme,
                    objects=objs,
                )
            )
        for split, names in sets.items():
            _write_text(base / "ImageSets" / "Main" / f"{split}.txt", "".join(x + "\n" for x in names))
        return finish(truth, tmp)


RSOD_SCENES = {  # folder -> (natural class, grounds, count range)
    "aircraft": ("plane", ("concrete",), (2, 8)),
    "oiltank": ("storage tank", ("desert", "concrete"), (3, 10)),
    "overpass": ("overpass", ("urban", "grass"), (1, 1)),
    "playground": ("ground track field", ("grass", "urban"), (1, 2)),
}


def write_rsod(
    out_dir: str | Path, n: int, seed: int = 0, size: int = 1000, overwrite: bool = False
) -> Truth:
    """``n`` RSOD-style images, round-robin over the four class folders."""
    truth = Truth(format="rsod", seed=seed, size=size, classes=sorted(RSOD.values()))
    folders = list(RSOD_SCENES)
    with atomic_output(out_dir, overwrite) as tmp:
        for i in range(n):
            rng = image_rng(seed, "rsod", i)
            folder = folders[i % len(folders)]
            cls, grounds, (lo, hi) = RSOD_SCENES[folder]
            ground = grounds[int(rng.integers(len(grounds)))]
            scene = compose_scene(rng, size, ground, [cls] * int(rng.integers(lo, hi + 1)), scale=1.2)
            fname = f"{folder}_{i // len(folders) + 1}.jpg"
            objs = object_truths(scene, RSOD)
            save_image(scene.image, tmp / folder / "JPEGImages" / fname)
            xml = f"{folder}/Annotation/xml/{fname[:-4]}.xml"
            _write_text(tmp / xml, rsod_xml(folder, fname, objs, scene.width, scene.height))
            truth.images.append(
                ImageTruth(
                    index=i,
                    image=f"{folder}/JPEGImages/{fname}",
                    width=scene.width,
                    height=scene.height,
                    split=split_of(seed, "rsod", i),
                    labels=[xml],
                    ground=scene.ground,
                    theme=folder,
                    objects=objs,
                )
            )
        return finish(truth, tmp)
