"""Scene-classification sets stored one folder per class, as ``kind: classification`` readers.

One generic reader (:class:`ImageFolderReader`, format ``imagefolder``) plus a table of per-dataset quirks
(:data:`FOLDER_SETS`): where the class folders sit below the download's root, how deep they are, and the
folder names that need a hand-written phrase ("denseresidential" -> "dense residential"). Each entry is
registered under its own format name (``ucmerced``, ``aid``, ``resisc45``, ...).

Rules (the same for every set; documented in each set's ``rs-annotate datasets`` entry):

- A class is a folder at ``class_depth`` below the image root (1 for most sets, 2 for RSI-CB's
  category/class tree). Its natural name comes from the set's table, else from generic rules:
  ``_``/``-`` become spaces, camelCase is split, everything is lower-cased (``classnames.normalize``).
- ``class_names`` are sorted alphabetically by natural name; ``Sample.label`` indexes that list.
- Split: none of these sets ships an official train/test split, so the default (``split="sorted"``) is
  the rule the RemoteCLIP authors state for their linear-probe sets: per class, sort the file names and
  put the first ``floor(train_fraction * n)`` (default 80%) in train, the rest in test.
  ``split="random"`` shuffles each class with ``seed`` instead; ``split="train"`` / ``"test"`` put every
  image into that one split (e.g. to zero-shot-evaluate a whole set).
- Bad input: an empty class folder, or two class folders whose names collide after normalisation, is a
  :class:`BadInput` (the class list would be wrong either way). Files that are not images (by extension:
  ``Thumbs.db``, ``.DS_Store``, READMEs), files outside any class folder and folders nested inside a class
  folder are skipped, and each skip is recorded in :attr:`ImageFolderReader.skipped` for the run report.
  A class folder that holds only non-image files counts as empty.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..classnames import normalize
from .base import BadInput, Reader, ReaderInfo, Sample, register
from .files import IMAGE_SUFFIXES

# WebP too: scene sets are often re-saved as WebP, and here no label file must pair with the image.
IMAGE_EXTENSIONS = frozenset({*IMAGE_SUFFIXES, ".webp"})
SPLIT_RULES = ("sorted", "random", "train", "test")

def is_image_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def class_phrase(raw: str, table: Mapping[str, str] | None = None) -> str:
    """A class folder name as a natural lower-case phrase: ``golf_course`` / ``GolfCourse`` -> ``golf course``.

    ``table`` maps folder names the generic rules cannot split (``denseresidential``) to phrases.
    """
    return normalize(raw, table)


def split_class(files: Sequence[str], rule: str, train_fraction: float, seed: int, key: str) -> list[str]:
    """The split of each of one class's files (given sorted), by ``rule`` (see the module docstring)."""
    if rule in ("train", "test"):
        return [rule] * len(files)
    n_train = math.floor(train_fraction * len(files) + 1e-9)
    order = list(range(len(files)))
    if rule == "random":
        # Seeded per class so that adding a class never reshuffles the others.
        random.Random(f"{seed}/{key}").shuffle(order)
    splits = [""] * len(files)
    for rank, index in enumerate(order):
        splits[index] = "train" if rank < n_train else "test"
    return splits


@dataclass(frozen=True)
class FolderSet:
    """The quirks of one folder-per-class set."""

    name: str
    title: str
    url: str
    license: str
    layout: str
    image_dirs: tuple[str, ...] = ()  # folders below the root tried in order as the image root
    class_depth: int = 1
    names: Mapping[str, str] = field(default_factory=dict)
    note: str = ""


class ImageFolderReader(Reader):
    """Generic folder-per-class reader.

    Options: ``split`` ("sorted" | "random" | "train" | "test", default "sorted"), ``train_fraction``
    (default 0.8), ``seed`` (for ``split="random"``, default 0), ``class_depth`` (overrides the set's),
    ``image_dir`` (a folder below the root to read instead of the set's usual ones), ``names`` (folder
    name -> phrase, a dict or JSON text, applied over the set's own table).
    """

    quirks = FolderSet(
        name="imagefolder",
        title="Any folder-per-class image set (generic ImageFolder)",
        url="(your own data)",
        license="whatever the images' owner grants",
        layout="ROOT/\n  <class name>/\n    <any name>.jpg|.png|.tif|...",
        note="Class names from folder names: the known sets' tables (denseresidential, ...), then the generic "
        "rules; names=... adds your own.",
    )

    def __init__(self, root: str | Path, **options: Any):
        super().__init__(root, **options)
        self.split_rule = str(options.get("split", "sorted"))
        if self.split_rule not in SPLIT_RULES:
            raise ValueError(f"split must be one of {', '.join(SPLIT_RULES)}, not {self.split_rule!r}")
        self.train_fraction = float(options.get("train_fraction", 0.8))
        if not 0.0 <= self.train_fraction <= 1.0:
            raise ValueError(f"train_fraction must lie in [0, 1], not {self.train_fraction}")
        self.seed = int(options.get("seed", 0))
        self.class_depth = int(options.get("class_depth", self.quirks.class_depth))
        self.image_root = self._image_root(options.get("image_dir"))
        names = options.get("names") or {}
        if isinstance(names, str):
            names = json.loads(names)
        self.names = {**self.quirks.names, **names}
        self._items: list[tuple[str, str, int, str]] = []
        self._scan()

    def _image_root(self, image_dir: str | None) -> Path:
        if image_dir is not None:
            path = self.root / image_dir
            if not path.is_dir():
                raise BadInput(path, "image_dir is not a directory")
            return path
        for candidate in self.quirks.image_dirs:
            if (self.root / candidate).is_dir():
                return self.root / candidate
        return self.root

    def _class_folders(self) -> list[Path]:
        level = [self.image_root]
        for depth in range(self.class_depth):
            below: list[Path] = []
            for folder in level:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
                subdirs = [Path(e.path) for e in entries if e.is_dir() and not e.name.startswith(".")]
                for e in entries:
                    if e.is_file():
                        self.skipped.append(BadInput(e.path, "not inside a class folder; skipped"))
                if depth > 0 and not subdirs:
                    raise BadInput(folder, "empty category folder: it holds no class folders")
                below.extend(subdirs)
            level = below
        if not level:
            raise BadInput(self.image_root, f"no class folders (expected them {self.class_depth} level(s) down)")
        return level

    def _scan(self) -> None:
        folders = self._class_folders()
        by_phrase: dict[str, Path] = {}
        files_of: dict[str, list[str]] = {}
        for folder in folders:
            try:
                phrase = class_phrase(folder.name, self.names)
            except ValueError as e:  # a name of separators only ("___")
                raise BadInput(folder, f"class folder name gives no class name: {e}") from None
            if phrase in by_phrase:
                raise BadInput(
                    folder, f"class folder name collides with {by_phrase[phrase]} (both mean {phrase!r})"
                )
            files: list[str] = []
            for e in sorted(os.scandir(folder), key=lambda e: e.name):
                if e.is_dir():
                    self.skipped.append(BadInput(e.path, "folder nested inside a class folder; skipped"))
                elif e.name.startswith(".") or not is_image_file(e.name):
                    self.skipped.append(BadInput(e.path, "not an image file (by extension); skipped"))
                else:
                    files.append(e.name)
            if not files:
                raise BadInput(folder, "empty class folder: it holds no image files")
            by_phrase[phrase] = folder
            files_of[phrase] = files
        self.class_names = sorted(by_phrase)
        for label, phrase in enumerate(self.class_names):
            folder, files = by_phrase[phrase], files_of[phrase]
            splits = split_class(files, self.split_rule, self.train_fraction, self.seed, phrase)
            for name, split in zip(files, splits):
                self._items.append((str(folder / name), folder.name, label, split))

    def items(self) -> Sequence[tuple[str, str, int, str]]:
        return list(self._items)

    def read(self, item: tuple[str, str, int, str]) -> Sample:
        path, folder, label, split = item
        rel = Path(path).relative_to(self.image_root).with_suffix("").as_posix()
        return Sample(
            image_id=f"{self.name}/{rel}",
            source=self.name,
            image_path=Path(path),
            label=label,
            split=split,
            meta={"file": Path(path).name, "class_folder": folder},
        )


_OPTIONS = ("options: split=sorted|random|train|test train_fraction=0.8 seed=0 names=JSON "
            "class_depth=N image_dir=DIR")
_SPLIT_NOTE = "No official split: default is per class, file names sorted, first 80% train, rest test."


def _info(q: FolderSet) -> ReaderInfo:
    note = f"{q.note} {_SPLIT_NOTE}".strip()
    return ReaderInfo(
        name=q.name, title=q.title, layout=f"{q.layout}\n({note})\n{_OPTIONS}", license=q.license, url=q.url,
        kind="classification",
    )


ImageFolderReader.info = _info(ImageFolderReader.quirks)
register(ImageFolderReader)

_RESEARCH = "free for research use (no licence file in the release); check the authors' terms"
_RSI_CB_NAMES = {"sandbeach": "sand beach", "parkinglot": "parking lot", "storage_room": "storage room"}
_RSSCN7_NAMES = {
    "aGrass": "grass", "bField": "field", "cIndustry": "industry", "dRiverLake": "river or lake",
    "eForest": "forest", "fResident": "residential", "gParking": "parking",
}

FOLDER_SETS: tuple[FolderSet, ...] = (
    FolderSet(
        name="ucmerced", title="UC Merced Land Use (21 classes, 100 images each, 256x256 TIFF)",
        url="http://weegee.vision.ucmerced.edu/datasets/landuse.html",
        license="public-domain USGS imagery; the authors ask for a citation (Yang & Newsam 2010)",
        layout="UCMerced_LandUse/\n  Images/\n    agricultural/agricultural00.tif ...\n    denseresidential/ ...",
        image_dirs=("Images", "UCMerced_LandUse/Images"),
        names={
            "baseballdiamond": "baseball diamond", "denseresidential": "dense residential",
            "golfcourse": "golf course", "mediumresidential": "medium residential",
            "mobilehomepark": "mobile home park", "parkinglot": "parking lot",
            "sparseresidential": "sparse residential", "storagetanks": "storage tanks",
            "tenniscourt": "tennis court",
        },
    ),
    FolderSet(
        name="aid", title="AID aerial scene classification (30 classes, 600x600 JPEG)",
        url="https://captain-whu.github.io/AID/", license=_RESEARCH,
        layout="AID/\n  Airport/airport_1.jpg ...\n  BareLand/ ...\n  DenseResidential/ ...",
        image_dirs=("AID",),
    ),
    FolderSet(
        name="resisc45", title="NWPU-RESISC45 (45 classes, 700 images each, 256x256 JPEG)",
        url="https://gcheng-nwpu.github.io/#Datasets", license=_RESEARCH,
        layout="NWPU-RESISC45/\n  airplane/airplane_001.jpg ...\n  baseball_diamond/ ...",
        image_dirs=("NWPU-RESISC45",),
        names={"snowberg": "snowberg", "sea_ice": "sea ice"},
    ),
    FolderSet(
        name="eurosat-rgb", title="EuroSAT RGB (10 Sentinel-2 land-cover classes, 64x64 JPEG)",
        url="https://github.com/phelber/EuroSAT", license="MIT (dataset repository); Copernicus Sentinel data",
        layout="EuroSAT_RGB/ (or 2750/)\n  AnnualCrop/AnnualCrop_1.jpg ...\n  SeaLake/ ...",
        image_dirs=("2750", "EuroSAT_RGB", "EuroSAT"),
        names={"SeaLake": "sea or lake"},
    ),
    FolderSet(
        name="patternnet", title="PatternNet (38 classes, 800 images each, 256x256 JPEG)",
        url="https://sites.google.com/view/zhouwx/dataset", license=_RESEARCH,
        layout="PatternNet/\n  images/\n    airplane/airplane001.jpg ...\n    oil_gas_field/ ...",
        image_dirs=("images", "PatternNet/images"),
        names={"oil_gas_field": "oil and gas field"},
    ),
    FolderSet(
        name="optimal-31", title="OPTIMAL-31 (31 classes, 60 images each, 256x256 JPEG)",
        url="(no official page) Wang et al., IEEE TGRS 57(2), 2019, the ARCNet paper", license=_RESEARCH,
        layout="OPTIMAL-31/\n  Images/\n    airplane/airplane(1).jpg ...\n    baseball_diamond/ ...",
        image_dirs=("Images", "OPTIMAL-31/Images"),
    ),
    FolderSet(
        name="rsc11", title="RSC11 (11 classes, 1,232 Google Earth images, 512x512 TIFF)",
        url="https://doi.org/10.1117/1.JRS.10.035004 (Zhao et al. 2016)", license=_RESEARCH,
        layout="RSC11/\n  dense forest/ ...\n  high buildings/ ...\n  storage tanks/ ...",
        names={
            "denseforest": "dense forest", "sparseforest": "sparse forest", "highbuildings": "high buildings",
            "lowbuildings": "low buildings", "residentialarea": "residential area",
            "storagetanks": "storage tanks",
        },
        note="Folder names may be spaced, underscored or run together; all map to the same phrases.",
    ),
    FolderSet(
        name="mlrsnet", title="MLRSNet, by scene folder (46 categories, 256x256 JPEG)",
        url="https://github.com/cugbrs/MLRSNet", license="CC BY 4.0 (Mendeley Data release); see the repository",
        layout="MLRSNet/\n  Images/\n    airplane/airplane_00001.jpg ...\n    harbor&port/ ...",
        image_dirs=("Images", "MLRSNet/Images"),
        names={"harbor&port": "harbor and port"},
        note="Multi-label in origin: the scene folder is the class; the label CSVs are not read.",
    ),
    FolderSet(
        name="rsi-cb128", title="RSI-CB128 (45 classes in 6 categories, 128x128 TIFF)",
        url="https://github.com/lehaifeng/RSI-CB", license=_RESEARCH,
        layout="RSI-CB128/\n  <category>/\n    <class>/<id>.tif\n  e.g. transportation/airport_runway/ ...",
        image_dirs=("RSI-CB128",), class_depth=2,
        names=_RSI_CB_NAMES,
        note="Classes are the second-level folders; the category folders above them are ignored.",
    ),
    FolderSet(
        name="rsi-cb256", title="RSI-CB256 (35 classes in 6 categories, 256x256 TIFF)",
        url="https://github.com/lehaifeng/RSI-CB", license=_RESEARCH,
        layout="RSI-CB256/\n  <category>/\n    <class>/<id>.tif\n  e.g. water area/sea/ ...",
        image_dirs=("RSI-CB256",), class_depth=2,
        names=_RSI_CB_NAMES,
        note="Classes are the second-level folders; the category folders above them are ignored.",
    ),
    FolderSet(
        name="whu-rs19", title="WHU-RS19 (19 classes, about 50 images each, 600x600 JPEG)",
        url="https://captain-whu.github.io/BED4RS/", license=_RESEARCH,
        layout="WHU-RS19/\n  Airport/airport_01.jpg ...\n  footballField/ ...\n  railwayStation/ ...",
        image_dirs=("WHU-RS19", "RSDataset"),
    ),
    FolderSet(
        name="whu-earth", title="WHU-earth scene set (as in the RemoteCLIP evaluation), one folder per class",
        url="(no canonical page known) named in the RemoteCLIP paper's evaluation tables", license=_RESEARCH,
        layout="WHU-earth/\n  <class name>/<any name>.jpg|.tif ...",
        note="Layout as distributed: one folder per class, names by the generic rules.",
    ),
    FolderSet(
        name="rsscn7", title="RSSCN7 (7 classes, 400 images each, 400x400 JPEG)",
        url="https://github.com/palewithout/RSSCN7 (Zou et al. 2015)", license=_RESEARCH,
        layout="RSSCN7/\n  aGrass/a001.jpg ...\n  dRiverLake/ ...\n  gParking/ ...",
        image_dirs=("RSSCN7",),
        names=_RSSCN7_NAMES,
        note="The letter prefixes (a..g) of the folder names are dropped.",
    ),
    FolderSet(
        name="rs2800", title="RS2800 (2,800 images in 7 classes: the RSSCN7 collection)",
        url="https://github.com/palewithout/RSSCN7 (Zou et al. 2015)", license=_RESEARCH,
        layout="RS2800/\n  aGrass/ (or Grass/) ...\n  dRiverLake/ (or RiverLake/) ...",
        names={**_RSSCN7_NAMES, "RiverLake": "river or lake", "Resident": "residential"},
        note="Folder names with or without RSSCN7's letter prefixes.",
    ),
)


def _register_sets() -> None:
    # The generic reader knows every set's run-together names, so a renamed copy of a known set still reads.
    merged: dict[str, str] = {}
    for quirks in FOLDER_SETS:
        merged.update(quirks.names)
    ImageFolderReader.quirks = dataclasses.replace(ImageFolderReader.quirks, names=merged)
    for quirks in FOLDER_SETS:
        cls_name = "".join(part.capitalize() for part in re.split(r"[^a-z0-9]", quirks.name)) + "Reader"
        cls = type(cls_name, (ImageFolderReader,), {"quirks": quirks, "info": _info(quirks), "__module__": __name__})
        globals()[cls_name] = cls  # picklable by name for worker processes
        register(cls)


_register_sets()
