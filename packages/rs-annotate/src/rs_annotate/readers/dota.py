"""DOTA v1.0 / v1.5 / v2.0 ``labelTxt`` files.

One text file per image: optional header lines ``imagesource:<name>`` and ``gsd:<metres per pixel>``,
then one object per line, ``x1 y1 x2 y2 x3 y3 x4 y4 class difficult`` (an oriented quadrilateral,
integer or float pixel coordinates; ``difficult`` is 0/1 and some tools omit it). CRLF or LF endings.
An empty file is an image with no objects. The quadrilateral becomes its axis-aligned bounding box
(min/max of the corners); ``difficult`` is kept on the box, or such objects are dropped with
``drop_difficult=True``.
"""

from __future__ import annotations

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
from .files import SPLITS, index_images, read_text


def parse_labeltxt(text: str, path: Path, *, drop_difficult: bool = False, table: dict[str, str] | None = None,
                   classes: frozenset[str] | None = None) -> tuple[list[Box], dict[str, Any]]:
    """The boxes and header values (``imagesource``, ``gsd``) of one labelTxt file; a class outside
    ``classes`` (when given) is BadInput."""
    boxes: list[Box] = []
    header: dict[str, Any] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("imagesource:"):
            header["imagesource"] = line.split(":", 1)[1].strip() or None
            continue
        if line.startswith("gsd:"):
            value = line.split(":", 1)[1].strip()
            # DOTA v1.5/v2.0 write "gsd:null" (or "None") where the resolution is unknown.
            header["gsd"] = None if value.lower() in ("", "null", "none", "nan") else \
                parse_float(value, path, lineno, "gsd")
            continue
        fields = line.split()
        if len(fields) not in (9, 10):
            raise BadInput(path, f"expected 'x1 y1 x2 y2 x3 y3 x4 y4 class difficult', got {len(fields)} "
                                 f"field(s)", lineno)
        coords = [parse_float(tok, path, lineno) for tok in fields[:8]]
        difficult = False
        if len(fields) == 10:
            if fields[9] not in ("0", "1"):
                raise BadInput(path, f"difficult flag {fields[9]!r} is not 0 or 1", lineno)
            difficult = fields[9] == "1"
        label = check_class(fields[8], path, lineno, table=table, classes=classes)
        if difficult and drop_difficult:
            continue
        xs, ys = coords[0::2], coords[1::2]
        boxes.append(Box(label, min(xs), min(ys), max(xs), max(ys), difficult))
    return boxes, header


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
        nested = [(self.root / s, s) for s in SPLITS
                  if (self.root / s / label_dir).is_dir() or (self.root / s / image_dir).is_dir()]
        if not nested:
            raise BadInput(self.root, f"no {label_dir}/ or {image_dir}/ folder (nor train/, val/, test/ with them)")
        return nested

    def items(self) -> list[tuple[str, str, str | None, str | None]]:
        image_dir, label_dir = self.options["image_dir"], self.options["label_dir"]
        out = []
        for base, split in self._roots():
            labels = {p.stem: p for p in (base / label_dir).glob("*.txt")} if (base / label_dir).is_dir() else {}
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
        boxes, header = parse_labeltxt(read_text(label_path), label_path,
                                       drop_difficult=self.options["drop_difficult"], table=DOTA,
                                       classes=self.classes)
        source = self.options["source"]
        return Sample(
            image_id=f"{source}/{stem}",
            source=source,
            image_path=Path(image) if image else None,
            boxes=boxes,
            split=split,
            meta={"file": label_path.relative_to(self.root).as_posix(), **header},
        )
