"""Scene-classification sets stored one folder per class, as ``kind: classification`` readers.

One generic reader (:class:`ImageFolderReader`, format ``imagefolder``) plus the table of per-dataset quirks
in :mod:`.folder_sets` (where the class folders sit below the download's root, how deep they are, and the
folder names that need a hand-written phrase). Each entry is registered under its own format name
(``ucmerced``, ``aid``, ``resisc45``, ...).

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
  :class:`BadInput` (the class list would be wrong either way). Files inside a class folder that are not
  images (by extension: ``Thumbs.db``, ``.DS_Store``, notes), image files outside any class folder and
  folders nested inside a class folder are skipped, and each skip is recorded in
  :attr:`ImageFolderReader.skipped` for the run report. Files beside the class folders that are not images
  (a README, a licence, checksums, rs-synth's ``_truth.json``) are not part of the set and are ignored, as
  torchvision's ``ImageFolder`` ignores them. A class folder that holds only non-image files counts as
  empty.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..classnames import normalize
from ..types import BadInput, Sample
from .base import Option, Reader, ReaderInfo, register
from .files import IMAGE_SUFFIXES
from .folder_sets import FOLDER_SETS, FolderSet

# WebP too: scene sets are often re-saved as WebP, and here no label file must pair with the image.
IMAGE_EXTENSIONS = frozenset({*IMAGE_SUFFIXES, ".webp"})
SPLIT_RULES = ("sorted", "random", "train", "test")
CLASS_DEPTH = Option("class_depth", 1, "how many folder levels below the image root the class folders are")


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


class ImageFolderReader(Reader):
    """Generic folder-per-class reader (options: :attr:`OPTIONS`; each known set's reader changes only
    ``class_depth``'s default)."""

    quirks = FolderSet(
        name="imagefolder",
        title="Any folder-per-class image set (generic ImageFolder)",
        url="(your own data)",
        license="whatever the images' owner grants",
        layout="ROOT/\n  <class name>/\n    <any name>.jpg|.png|.tif|...",
        note="Class names from folder names: the known sets' tables (denseresidential, ...), then the generic "
        "rules; names=... adds your own.",
    )
    OPTIONS = (
        Option(
            "split",
            "sorted",
            "sorted: per class, sorted file names, first train_fraction train, the rest "
            "test; random: the same with a seeded shuffle; train / test: every image there",
            SPLIT_RULES,
        ),
        Option("train_fraction", 0.8, "fraction of each class in train (split=sorted or random)"),
        Option("seed", 0, "shuffle seed of split=random"),
        CLASS_DEPTH,
        Option("image_dir", None, "a folder below the root to read instead of the set's usual ones"),
        Option("names", None, "folder name -> class phrase (a dict, or JSON text), over the set's own table"),
    )

    def __init__(self, root: str | Path, **options: Any):
        super().__init__(root, **options)
        self.split_rule = str(self.options["split"])
        self.train_fraction = float(self.options["train_fraction"])
        if not 0.0 <= self.train_fraction <= 1.0:
            raise ValueError(f"train_fraction must lie in [0, 1], not {self.train_fraction}")
        self.seed = int(self.options["seed"])
        self.class_depth = int(self.options["class_depth"])
        self.image_root = self._image_root(self.options["image_dir"])
        names = self.options["names"] or {}
        if isinstance(names, str):
            try:
                names = json.loads(names)
            except json.JSONDecodeError as e:
                raise ValueError(f"reader option names: not valid JSON ({e.msg}): {names!r}") from None
        if not isinstance(names, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in names.items()
        ):
            raise ValueError(f"reader option names must map folder names to class names, got {names!r}")
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
                    if e.is_file() and is_image_file(e.name) and not e.name.startswith("."):
                        self.skipped.append(BadInput(e.path, "not inside a class folder; skipped"))
                if depth > 0 and not subdirs:
                    raise BadInput(folder, "empty category folder: it holds no class folders")
                below.extend(subdirs)
            level = below
        if not level:
            raise BadInput(
                self.image_root, f"no class folders (expected them {self.class_depth} level(s) down)"
            )
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


_SPLIT_NOTE = "No official split: default is per class, file names sorted, first 80% train, rest test."


def _info(q: FolderSet) -> ReaderInfo:
    note = f"{q.note} {_SPLIT_NOTE}".strip()
    return ReaderInfo(
        name=q.name,
        title=q.title,
        layout=f"{q.layout}\n({note})",
        license=q.license,
        url=q.url,
        kind="classification",
    )


ImageFolderReader.info = _info(ImageFolderReader.quirks)
register(ImageFolderReader)


def _register_sets() -> None:
    # The generic reader knows every set's run-together names, so a renamed copy of a known set still reads.
    merged: dict[str, str] = {}
    for quirks in FOLDER_SETS:
        merged.update(quirks.names)
    ImageFolderReader.quirks = dataclasses.replace(ImageFolderReader.quirks, names=merged)
    for quirks in FOLDER_SETS:
        cls_name = "".join(part.capitalize() for part in re.split(r"[^a-z0-9]", quirks.name)) + "Reader"
        attrs = {
            "quirks": quirks,
            "info": _info(quirks),
            "__module__": __name__,
            "OPTIONS": (CLASS_DEPTH.defaulting_to(quirks.class_depth),),
        }
        cls = type(cls_name, (ImageFolderReader,), attrs)
        globals()[cls_name] = cls  # picklable by name for worker processes
        register(cls)


_register_sets()
