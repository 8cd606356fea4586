"""DOTA v1.0 / v1.5 / v2.0 ``labelTxt`` files: the one parser of DOTA labels in rs-clip.

Public API (other packages use it; rs-count builds RemoteCount from it): :func:`read_labeltxt`,
:func:`parse_labeltxt`, :class:`DotaLabels`, :class:`DotaObject`. Errors are :class:`BadInput` naming
``file:line``.

Format, one text file per image (``P0001.txt`` for ``P0001.png``)::

    imagesource:GoogleEarth          optional header lines, before the first object
    gsd:0.146343590398               ground sample distance in metres per pixel, or "null"
    x1 y1 x2 y2 x3 y3 x4 y4 class difficult

Rules, chosen to match the real files (DOTA v1.0's devkit samples: two header lines, CRLF, integer
corners, ``gsd:1`` in GF scenes; mmrotate's split tiles: no header, float corners, LF, empty files):

* **Header lines** are ``imagesource:`` and ``gsd:`` lines (key case-insensitive) *before the first
  object*; both are optional (split tiles have none). Every real file puts them first, so one after an
  object is an error rather than a silently accepted (or silently ignored) value.
* **gsd** is a positive finite number (integer or float), or ``null`` / ``None`` / ``nan`` / empty,
  which DOTA v1.5/v2.0 write where the resolution is unknown (-> None). Zero or a negative gsd is an error.
* **Objects**: an oriented quadrilateral of four corners in pixels of the original image, the class as
  written (hyphenated: ``small-vehicle``), and ``difficult`` 0 or 1; some tools omit that column (-> 0).
* CRLF or LF; blank lines and a UTF-8 byte-order mark are ignored; an empty file is an image without
  objects. Anything else is an error that names ``file:line``.

The reader turns each quadrilateral into its axis-aligned bounding box (min/max of the corners), class
names into natural phrases (:func:`rs_annotate.classnames.normalize`), and keeps ``difficult`` on the
box, or drops such objects with ``drop_difficult=True``. A class outside DOTA v1.0-v2.0's 18 is an error
naming ``file:line`` (a typo must not become a caption); ``extra_classes`` admits more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..classnames import DOTA, DOTA_CLASSES, check_class
from ..types import BadInput, Box, Sample
from .base import (
    DROP_DIFFICULT,
    EXTRA_CLASSES,
    REQUIRE_IMAGES,
    Option,
    Reader,
    ReaderInfo,
    parse_float,
    register,
    source_option,
    split_option,
)
from .files import SPLITS, index_images, listing, read_text

HEADER_KEYS = ("imagesource", "gsd")
_NO_GSD = ("", "null", "none", "nan")


@dataclass(frozen=True)
class DotaObject:
    """One labelled object: its oriented quadrilateral, class as written, difficult flag and line."""

    polygon: tuple[float, ...]  # x1 y1 x2 y2 x3 y3 x4 y4, pixels of the original image
    label: str
    difficult: bool
    line: int

    @property
    def corners(self) -> list[tuple[float, float]]:
        return list(zip(self.polygon[0::2], self.polygon[1::2]))

    def box(self) -> tuple[float, float, float, float]:
        """Axis-aligned bounding box ``(x0, y0, x1, y1)`` of the corners."""
        xs, ys = self.polygon[0::2], self.polygon[1::2]
        return min(xs), min(ys), max(xs), max(ys)

    def short_side(self) -> float:
        """Width of the oriented box: the mean length of its shorter pair of opposite edges."""
        pts = self.corners
        edges = [math.dist(pts[i], pts[(i + 1) % 4]) for i in range(4)]
        return min((edges[0] + edges[2]) / 2, (edges[1] + edges[3]) / 2)


@dataclass
class DotaLabels:
    """A parsed labelTxt file: its objects in file order and the header lines it has."""

    path: Path
    objects: list[DotaObject] = field(default_factory=list)
    header: dict[str, Any] = field(default_factory=dict)  # only the keys the file states

    @property
    def imagesource(self) -> str | None:
        return self.header.get("imagesource")

    @property
    def gsd(self) -> float | None:
        return self.header.get("gsd")

    def boxes(
        self,
        *,
        drop_difficult: bool = False,
        table: dict[str, str] | None = DOTA,
        classes: frozenset[str] | None = None,
    ) -> list[Box]:
        """Axis-aligned boxes with natural class names (what captions need); a class outside ``classes``
        (when given) is BadInput naming the file and line."""
        out = []
        for o in self.objects:
            label = check_class(o.label, self.path, o.line, table=table, classes=classes)
            if not (drop_difficult and o.difficult):
                out.append(Box(label, *o.box(), o.difficult))
        return out


def parse_labeltxt(text: str, path: str | Path) -> DotaLabels:
    """The objects and header of one labelTxt file's text (``path`` names it in errors)."""
    out = DotaLabels(Path(path))
    for lineno, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if sep and key in HEADER_KEYS:
            if out.objects:
                raise BadInput(
                    out.path, f"header line {key!r} after the first object (headers come first)", lineno
                )
            value = value.strip()
            out.header[key] = (value or None) if key == "imagesource" else _gsd(value, out.path, lineno)
            continue
        out.objects.append(_object(line, out.path, lineno))
    return out


def read_labeltxt(path: str | Path) -> DotaLabels:
    """Read and parse one labelTxt file; unreadable or non-UTF-8 files are BadInput too."""
    path = Path(path)
    return parse_labeltxt(read_text(path), path)


def _gsd(value: str, path: Path, lineno: int) -> float | None:
    if value.lower() in _NO_GSD:
        return None
    gsd = parse_float(value, path, lineno, "gsd")
    if gsd <= 0:
        raise BadInput(path, f"gsd {value!r} must be a positive number of metres per pixel (or null)", lineno)
    return gsd


def _object(line: str, path: Path, lineno: int) -> DotaObject:
    fields = line.split()
    if len(fields) not in (9, 10):
        raise BadInput(
            path, f"expected 'x1 y1 x2 y2 x3 y3 x4 y4 class difficult', got {len(fields)} field(s)", lineno
        )
    coords = tuple(parse_float(tok, path, lineno) for tok in fields[:8])
    difficult = "0" if len(fields) == 9 else fields[9]
    if difficult not in ("0", "1"):
        raise BadInput(path, f"difficult flag {difficult!r} is not 0 or 1", lineno)
    return DotaObject(coords, fields[8], difficult == "1", lineno)


@register
class DotaReader(Reader):
    """DOTA ``images/`` + ``labelTxt/`` (options: :attr:`OPTIONS`).

    A flat root is one split (``split``); a root holding ``train/``, ``val/``, ``test/`` folders gets each
    folder's name. A label file without an image, or an image without a label file, is a BadInput for that
    item. A class outside DOTA v1.0-v2.0's 18 is BadInput naming the file and line (``extra_classes``).
    """

    info = ReaderInfo(
        name="dota",
        title="DOTA v1.0 / v1.5 / v2.0 (oriented boxes in labelTxt)",
        layout="ROOT/\n  images/P0001.png\n  labelTxt/P0001.txt\n"
        "(or ROOT/{train,val,test}/{images,labelTxt}/)",
        license="DOTA: academic use only (see the DOTA website); images from Google Earth, GF-2, JL-1",
        url="https://captain-whu.github.io/DOTA/",
        kind="captions",
    )
    OPTIONS = (
        Option("image_dir", "images", "image folder below the root (or below each split folder)"),
        Option("label_dir", "labelTxt", "label folder, e.g. labelTxt-v1.5"),
        DROP_DIFFICULT,
        split_option("train", " of a flat root (split folders keep their own names)"),
        source_option("dota"),
        REQUIRE_IMAGES,
        EXTRA_CLASSES,
    )
    CLASSES = DOTA_CLASSES

    def _roots(self) -> list[tuple[Path, str]]:
        image_dir, label_dir = self.options["image_dir"], self.options["label_dir"]
        if (self.root / label_dir).is_dir() or (self.root / image_dir).is_dir():
            return [(self.root, self.options["split"])]
        nested = [
            (self.root / s, s)
            for s in SPLITS
            if (self.root / s / label_dir).is_dir() or (self.root / s / image_dir).is_dir()
        ]
        if not nested:
            raise BadInput(
                self.root, f"no {label_dir}/ or {image_dir}/ folder (nor train/, val/, test/ with them)"
            )
        return nested

    def items(self) -> list[tuple[str, str, str | None, str | None]]:
        image_dir, label_dir = self.options["image_dir"], self.options["label_dir"]
        out = []
        for base, split in self._roots():
            labels = {p.stem: p for p in listing(base / label_dir) if p.name.endswith(".txt")}
            images = index_images(base / image_dir)
            for stem in sorted(labels.keys() | images.keys()):
                label, image = labels.get(stem), images.get(stem)
                out.append((stem, split, str(label) if label else None, str(image) if image else None))
        if not out:
            raise BadInput(self.root, f"no label files in {label_dir}/ and no images in {image_dir}/")
        return out

    def read(self, item: tuple[str, str, str | None, str | None]) -> Sample:
        stem, split, label, image = item
        if label is None:
            raise BadInput(image, f"image has no label file {self.options['label_dir']}/{stem}.txt")
        label_path = self.source_file(label)
        if image is None and self.options["require_images"]:
            raise BadInput(label_path, f"label file has no image {self.options['image_dir']}/{stem}.*")
        labels = read_labeltxt(label_path)
        source = self.options["source"]
        return Sample(
            image_id=f"{source}/{stem}",
            source=source,
            image_path=Path(image) if image else None,
            boxes=labels.boxes(drop_difficult=self.options["drop_difficult"], classes=self.classes),
            split=split,
            meta={"file": label_path.relative_to(self.root).as_posix(), **labels.header},
        )
