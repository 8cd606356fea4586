"""Caption datasets: Karpathy-style JSON (RSICD, RSITMD, UCM-captions, Sydney) and the ``*_precomp`` text
layout many retrieval papers ship.

Layout (``flavour='rsicd'``)::

    RSICD_images/airport_1.jpg ...
    dataset_rsicd.json          {"images": [{"filename", "imgid", "split", "sentids",
                                  "sentences": [{"tokens", "raw", "imgid", "sentid"}]}], "dataset": "rsicd"}
    rsicd_precomp/{train,val,test}_caps.txt       one caption per line
    rsicd_precomp/{train,val,test}_filename.txt   the image's file name, repeated on 5 consecutive lines

Flavours follow the real files: ``rsicd`` lower case with `` .`` (``airport_1.jpg``), ``rsitmd`` sentence
case ending in ``.``, ``ucm`` numbered ``.tif`` files, ``sydney`` numbered ``.tif`` with `` .``.
About 15% of images show bare ground and 20% are one-class counting scenes, so ground words and number
words are learnable too.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..captions import scene_captions
from ..classes import REMOTECOUNT
from ..textures import GROUNDS
from ..themes import compose_scene, counting_scene, sample_scene
from ..truth import ImageTruth, Truth
from ._base import atomic_output, finish, image_rng, object_truths, save_image, split_of

CAPTION_CLASSES = frozenset(
    {
        "plane",
        "helicopter",
        "ship",
        "storage tank",
        "small vehicle",
        "large vehicle",
        "harbor",
        "bridge",
        "roundabout",
        "tennis court",
        "basketball court",
        "baseball diamond",
        "soccer field",
        "ground track field",
        "swimming pool",
        "airport",
        "golf field",
        "parking lot",
        "stadium",
        "windmill",
        "overpass",
    }
)
FLAVOURS = {
    "rsicd": dict(images="RSICD_images", json="dataset_rsicd.json", dataset="rsicd", ext=".jpg"),
    "rsitmd": dict(images="images", json="dataset_RSITMD.json", dataset="rsitmd", ext=".tif"),
    "ucm": dict(images="imgs", json="dataset.json", dataset="ucm", ext=".tif"),
    "sydney": dict(images="imgs", json="dataset.json", dataset="sydney", ext=".tif"),
}


def _style(caption: str, flavour: str) -> str:
    if flavour == "rsitmd":
        body = caption[:-2]
        return body[0].upper() + body[1:] + "."
    if flavour == "sydney":
        return caption[0].upper() + caption[1:]
    return caption


def _tokens(raw: str) -> list[str]:
    return [t for t in raw.replace(".", " ").replace(",", " ").split()]


def make_scene(rng, size: int):
    u = rng.random()
    if u < 0.15:
        ground = GROUNDS[int(rng.integers(len(GROUNDS)))]
        water = (
            None
            if ground == "water" or rng.random() < 0.6
            else ("lake", "river", "sea")[int(rng.integers(3))]
        )
        return compose_scene(rng, size, ground, [], water)
    if u < 0.35:
        cls = REMOTECOUNT[int(rng.integers(len(REMOTECOUNT)))]
        return counting_scene(rng, size, cls, int(rng.integers(1, 11)))
    return sample_scene(rng, size, CAPTION_CLASSES)


def write(
    out_dir: str | Path,
    n: int,
    seed: int = 0,
    size: int = 256,
    overwrite: bool = False,
    flavour: str = "rsicd",
) -> Truth:
    """``n`` captioned scenes (5 captions each), 80/10/10 train/val/test."""
    if flavour not in FLAVOURS:
        raise ValueError(f"unknown caption flavour {flavour!r}; known: {', '.join(FLAVOURS)}")
    f = FLAVOURS[flavour]
    stream = f"captions-{flavour}"
    truth = Truth(format=flavour, seed=seed, size=size, meta={"flavour": flavour})
    images, sentid = [], 0
    with atomic_output(out_dir, overwrite) as tmp:
        for i in range(n):
            rng = image_rng(seed, stream, i)
            scene = make_scene(rng, size)
            caps = [_style(c, flavour) for c in scene_captions(rng, scene)]
            if flavour in ("ucm", "sydney"):
                fname = f"{i + 1}{f['ext']}"
            else:
                top = max(scene.counts().items(), key=lambda kv: kv[1], default=(scene.ground, 0))[0]
                fname = (
                    f"{(scene.theme if scene.theme not in ('', 'counting') else top).replace(' ', '')}_{i + 1}"
                    f"{f['ext']}"
                )
            split = split_of(seed, stream, i)
            save_image(scene.image, tmp / f["images"] / fname)
            sents = [
                {"tokens": _tokens(c), "raw": c, "imgid": i, "sentid": sentid + k} for k, c in enumerate(caps)
            ]
            images.append(
                {
                    "sentids": list(range(sentid, sentid + len(caps))),
                    "imgid": i,
                    "sentences": sents,
                    "split": split,
                    "filename": fname,
                }
            )
            sentid += len(caps)
            truth.images.append(
                ImageTruth(
                    index=i,
                    image=f"{f['images']}/{fname}",
                    width=scene.width,
                    height=scene.height,
                    split=split,
                    labels=[f["json"]],
                    ground=scene.ground,
                    water=scene.water,
                    theme=scene.theme,
                    objects=object_truths(scene, {c: c for c in scene.counts()}),
                    captions=caps,
                )
            )
        (tmp / f["json"]).write_text(
            json.dumps({"images": images, "dataset": f["dataset"]}), encoding="utf-8"
        )
        pre = tmp / f"{f['dataset']}_precomp"
        pre.mkdir()
        for split in ("train", "val", "test"):
            rows = [
                (im["filename"], s["raw"]) for im in images if im["split"] == split for s in im["sentences"]
            ]
            (pre / f"{split}_caps.txt").write_text("".join(c + "\n" for _, c in rows), encoding="ascii")
            (pre / f"{split}_filename.txt").write_text("".join(fn + "\n" for fn, _ in rows), encoding="ascii")
        return finish(truth, tmp)
