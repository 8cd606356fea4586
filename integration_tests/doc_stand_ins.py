"""rs-synth stand-ins of what the documentation presumes is on disk: raw sources in their release layouts,
small rs-datasets, a RemoteCount set. Each is written once per test session, tiny, and seeded.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from rs_synth.evalsets import write_captions_dataset, write_classification_dataset
from rs_synth.registry import FORMATS
from rs_synth.writers.imagefolder import CLASSES

#: docs/reproduce.md's /data/raw/<folder> -> (rs-synth format, images, size, seed, writer keywords). Seeds
#: chosen so that each stand-in has every split its source has (the recipe keeps some splits out: each
#: must be there to be left out).
RECIPE_SOURCES = {
    "RSICD": ("rsicd", 20, 48, 0, {}),
    "RSITMD": ("rsitmd", 20, 48, 0, {}),
    "UCM-captions": ("ucm-captions", 20, 48, 1, {}),
    "DOTA/train": ("dota", 3, 256, 0, {}),
    "DIOR": ("dior", 10, 96, 0, {}),
    "HRRSD": ("hrrsd", 10, 96, 1, {}),
    "RSOD": ("rsod", 4, 96, 0, {}),
    "LEVIR": ("levir", 3, 96, 0, {}),
    "HRSC2016": ("hrsc2016", 8, 96, 0, {}),
    "AU-AIR": ("auair", 3, 128, 0, {}),
    "CARPK": ("carpk", 6, 128, 0, {"layout": "release"}),  # CARPK_devkit and PUCPR+_devkit
    "StanfordDrone": ("sdd", 1, 96, 0, {"frames": 61}),
    "VisDrone2019-DET": ("visdrone", 10, 96, 0, {}),
    "iSAID": ("isaid", 6, 1000, 0, {}),
    "LoveDA": ("loveda", 8, 64, 0, {}),
    "Potsdam": ("potsdam", 2, 600, 0, {"layout": "release"}),
    "Vaihingen": ("vaihingen", 3, 600, 0, {"layout": "release"}),
    "DOTA/val": ("counting", 20, 128, 3, {}),  # RemoteCount's source: 1-10 objects of one class per scene
}
#: The recipe's scene-classification sets: each its own folder-per-class tree under the image root its
#: reader looks for first (RSI-CB's classes sit one category folder down).
SCENE_SETS = (
    "aid",
    "resisc45",
    "eurosat-rgb",
    "patternnet",
    "optimal-31",
    "rsc11",
    "mlrsnet",
    "rsi-cb128",
    "rsi-cb256",
    "whu-rs19",
    "whu-earth",
    "rsscn7",
)
_DEPTH_TWO = {"rsi-cb128": "RSI-CB128", "rsi-cb256": "RSI-CB256"}


def source(folder: str) -> Callable[[Path], object]:
    fmt, n, size, seed, kwargs = RECIPE_SOURCES[folder]
    return lambda out: FORMATS[fmt].write(out, n, seed=seed, size=size, **kwargs)


def scene_set(name: str) -> Callable[[Path], None]:
    def write(out: Path) -> None:
        root = out / _DEPTH_TWO[name] / "transport" if name in _DEPTH_TWO else out
        FORMATS["imagefolder"].write(root, 6, seed=0, size=32, classes=list(CLASSES)[:3])
        (root / "_truth.json").unlink()  # the reader would list it as a stray file

    return write


def captions(out: Path) -> None:
    """A captions dataset with a train split: what training and archive embedding read."""
    write_captions_dataset(out, n_images=16, size=32, split="train", name="captions")


def eval_root(out: Path) -> None:
    """A folder of evaluation sets as rs-annotate writes them, each with its report beside it."""
    from rs_annotate.cli import main

    raw = out.parent / f"{out.name}-raw"
    FORMATS["rsitmd"].write(raw / "RSITMD", 20, seed=0, size=48)
    scene_set("eurosat-rgb")(raw / "eurosat-rgb")
    for fmt, name, opts in (
        ("rsitmd", "RSITMD", ["--opt", "splits=test"]),
        ("eurosat-rgb", "eurosat-rgb", []),
    ):
        assert (
            main(
                [
                    "convert",
                    fmt,
                    str(raw / name),
                    "--out",
                    str(out / name),
                    "--workers",
                    "1",
                    "--no-progress",
                    *opts,
                ]
            )
            == 0
        )
    shutil.rmtree(raw)


def remotecount(out: Path) -> None:
    from rs_count import BuildRules, build

    raw = out.parent / f"{out.name}-raw"
    source("DOTA/val")(raw)
    build(raw / "labelTxt", raw / "images", out, BuildRules())
    shutil.rmtree(raw)


def evalsets(out: Path) -> None:
    """rs-clip-eval's README suite's two datasets (data/synthetic-captions, data/synthetic-scenes)."""
    write_captions_dataset(out / "synthetic-captions", n_images=8, size=32)
    write_classification_dataset(
        out / "synthetic-scenes", n_train=8, n_test=8, classes=("plane", "ship"), size=32
    )


def remotecount_release(out: Path) -> None:
    """A released-style RemoteCount annotation file (image, class, count) beside its images."""
    truth = FORMATS["counting"].write(out / "scenes", 10, seed=5, size=96)
    (out / "RemoteCount").mkdir()
    (out / "scenes" / "images").rename(out / "RemoteCount" / "images")
    lines = ["image,class,count"] + [
        f"{Path(im.image).name},{im.meta['count_class']},{im.meta['count']}" for im in truth.images
    ]
    (out / "remotecount.csv").write_text("\n".join(lines) + "\n")
    shutil.rmtree(out / "scenes")


def wds_set(out: Path) -> None:
    """A CLIP_benchmark zero-shot set (wds_<name>: test/{0..N-1}.tar, nshards.txt, classnames.txt), as
    rs-annotate's export writes it in clip_benchmark's layout."""
    from rs_annotate import export_webdataset

    scenes = out.parent / f"{out.name}-scenes"
    write_classification_dataset(scenes, n_train=2, n_test=8, classes=("plane", "ship"), size=32)
    export_webdataset(scenes, out, splits=["test"])
    shutil.rmtree(scenes)


BUILDERS: dict[str, Callable[[Path], object]] = {
    **{f"raw/{folder}": source(folder) for folder in RECIPE_SOURCES},
    **{f"raw/{name}": scene_set(name) for name in SCENE_SETS},
    "raw/DIOR-small": lambda out: FORMATS["dior"].write(out, 4, seed=0, size=96),
    "raw/DOTA-small": lambda out: FORMATS["dota"].write(out, 3, seed=0, size=128),
    "raw/RSICD-small": lambda out: FORMATS["rsicd"].write(out, 20, seed=0, size=48),
    "captions": captions,
    "eval-root": eval_root,
    "remotecount": remotecount,
    "remotecount-release": remotecount_release,
    "evalsets": evalsets,
    "wds-set": wds_set,
}


class StandIns:
    """Builds each stand-in once, on first use, under ``root``."""

    def __init__(self, root: Path):
        self.root = root

    def __getitem__(self, name: str) -> Path:
        path = self.root / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            BUILDERS[name](path)
        return path
