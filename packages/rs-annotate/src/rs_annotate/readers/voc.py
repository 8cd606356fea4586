"""Pascal-VOC XML detection labels and the plain VOC reader (the published sets built on it: voc_sets).

One XML per image, ``<annotation>`` with ``<size>`` and ``<object>`` elements. Only an object's own
``<name>`` child is its class: HRRSD's ``<owner><name>snail_crowling</name>`` is not an object.
Boxes:

* ``<bndbox>`` ``xmin ymin xmax ymax`` are taken as pixel edges (x0 = xmin, x1 = xmax), as
  mmdetection 3 and torchvision read VOC today; the classic one-based convention would move a box by
  one pixel, which is immaterial for captions and would push boxes that start at 0 off the image.
* DIOR-R ``<robndbox>`` with four corners (``x_left_top`` ... ``y_left_bottom``), or the roLabelImg
  form ``cx cy w h angle`` (radians), becomes the axis-aligned box around the corners.

``<difficult>1`` is kept on the box (``drop_difficult=True`` drops such objects). Errors name the XML
file and line.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, ClassVar
from xml.parsers import expat

from ..classnames import check_class
from ..types import BadInput, Box, Sample
from .base import (
    DROP_DIFFICULT,
    REQUIRE_IMAGES,
    Option,
    Reader,
    ReaderInfo,
    parse_float,
    register,
    source_option,
    split_option,
)
from .files import IMAGE_SUFFIXES, SPLITS, read_bytes, read_text

_CORNERS = (
    "x_left_top",
    "y_left_top",
    "x_right_top",
    "y_right_top",
    "x_right_bottom",
    "y_right_bottom",
    "x_left_bottom",
    "y_left_bottom",
)


class XmlDoc:
    """A parsed XML file that remembers each element's line, so errors can point at it."""

    def __init__(self, path: Path):
        self.path = path
        data = read_bytes(path)
        builder = ET.TreeBuilder()
        parser = expat.ParserCreate()
        self._lines: dict[int, int] = {}

        def start(tag: str, attrs: dict[str, str]) -> None:
            self._lines[id(builder.start(tag, attrs))] = parser.CurrentLineNumber

        parser.StartElementHandler = start
        parser.EndElementHandler = builder.end
        parser.CharacterDataHandler = builder.data
        try:
            parser.Parse(data, True)
        except expat.ExpatError as e:
            raise BadInput(path, f"not well-formed XML: {expat.errors.messages[e.code]}", e.lineno) from None
        self.root = builder.close()

    def line(self, el: ET.Element) -> int | None:
        return self._lines.get(id(el))

    def text(self, parent: ET.Element, tag: str) -> str | None:
        """Stripped text of ``parent``'s direct child ``tag``; None when absent or empty."""
        child = parent.find(tag)
        if child is None or child.text is None or not child.text.strip():
            return None
        return child.text.strip()

    def number(self, parent: ET.Element, tag: str) -> float:
        """A required numeric child, or BadInput naming it and its line."""
        child = parent.find(tag)
        if child is None or child.text is None or not child.text.strip():
            raise BadInput(self.path, f"<{parent.tag}> has no <{tag}> value", self.line(parent))
        return parse_float(child.text.strip(), self.path, self.line(child), f"<{tag}>")

    def size(self, parent: ET.Element, wtag: str, htag: str) -> tuple[int, int] | None:
        """(width, height) when both are stated and positive."""
        if self.text(parent, wtag) is None or self.text(parent, htag) is None:
            return None
        w, h = self.number(parent, wtag), self.number(parent, htag)
        return (int(w), int(h)) if w > 0 and h > 0 else None


def corners_box(xs: list[float], ys: list[float]) -> tuple[float, float, float, float]:
    return min(xs), min(ys), max(xs), max(ys)


def rotated_box(cx: float, cy: float, w: float, h: float, angle: float) -> tuple[float, float, float, float]:
    """Axis-aligned box around a w x h rectangle centred at (cx, cy), rotated by ``angle`` radians."""
    c, s = abs(math.cos(angle)), abs(math.sin(angle))
    half_w, half_h = (w * c + h * s) / 2, (w * s + h * c) / 2
    return cx - half_w, cy - half_h, cx + half_w, cy + half_h


def parse_difficult(doc: XmlDoc, obj: ET.Element) -> bool:
    text = doc.text(obj, "difficult")
    if text is None:
        return False
    if text not in ("0", "1"):
        raise BadInput(doc.path, f"<difficult> {text!r} is not 0 or 1", doc.line(obj.find("difficult")))
    return text == "1"


def parse_voc(
    doc: XmlDoc,
    *,
    table: dict[str, str] | None = None,
    drop_difficult: bool = False,
    classes: frozenset[str] | None = None,
) -> tuple[list[Box], tuple[int, int] | None]:
    """Boxes and stated (width, height) of a VOC annotation; a class outside ``classes`` is BadInput."""
    root = doc.root
    if root.tag != "annotation":
        raise BadInput(doc.path, f"root element is <{root.tag}>, expected <annotation>", doc.line(root))
    size_el = root.find("size")
    size = doc.size(size_el, "width", "height") if size_el is not None else None
    boxes = []
    for obj in root.findall("object"):
        name = doc.text(obj, "name")
        if name is None:
            raise BadInput(doc.path, "<object> has no <name>", doc.line(obj))
        label = check_class(name, doc.path, doc.line(obj.find("name")), table=table, classes=classes)
        difficult = parse_difficult(doc, obj)
        rob, bnd = obj.find("robndbox"), obj.find("bndbox")
        if rob is not None and rob.find("x_left_top") is not None:
            vals = [doc.number(rob, t) for t in _CORNERS]
            coords = corners_box(vals[0::2], vals[1::2])
        elif rob is not None:
            coords = rotated_box(*(doc.number(rob, t) for t in ("cx", "cy", "w", "h", "angle")))
        elif bnd is not None:
            coords = tuple(doc.number(bnd, t) for t in ("xmin", "ymin", "xmax", "ymax"))
        else:
            raise BadInput(doc.path, f"object {name!r} has neither <bndbox> nor <robndbox>", doc.line(obj))
        if difficult and drop_difficult:
            continue
        boxes.append(Box(label, *coords, difficult=difficult))
    return boxes, size


ANNOTATIONS = Option(
    "annotations",
    ("Annotations",),
    "folder glob(s) below the root holding the XML files; the first pattern with XML files wins",
)
IMAGES = Option(
    "images", ("JPEGImages",), "folder glob(s) searched for each XML's image, by stem or by its <filename>"
)


def _dirs(root: Path, patterns: tuple[str, ...] | list[str]) -> list[Path]:
    out: list[Path] = []
    for pattern in patterns:
        out.extend(p for p in sorted(root.glob(pattern)) if p.is_dir() and p not in out)
    return out


@register
class VocReader(Reader):
    """Generic Pascal-VOC layout; the dataset presets below only change the option defaults (:attr:`OPTIONS`).

    Splits come from ``ImageSets/Main/{train,val,test}.txt`` when present, else "test" for files in a
    folder named ``*test*``, else ``split``. An image without XML, or XML without an image, is a BadInput
    for that item. The presets with a published class list (DIOR's 20, HRRSD's 13, RSOD's 4) refuse other
    class names, naming the file and line (``extra_classes`` admits more); the generic reader accepts any.
    """

    info = ReaderInfo(
        name="voc",
        title="Pascal-VOC XML (generic)",
        layout="ROOT/\n  Annotations/0001.xml\n  JPEGImages/0001.jpg\n  ImageSets/Main/{train,val,test}.txt (optional)",
        license="depends on the dataset",
        url="http://host.robots.ox.ac.uk/pascal/VOC/",
        kind="captions",
    )
    OPTIONS = (
        ANNOTATIONS,
        IMAGES,
        split_option("train", " when the dataset states none (no ImageSets list, no *test* folder)"),
        DROP_DIFFICULT,
        source_option("voc"),
        REQUIRE_IMAGES,
    )
    TABLE: ClassVar[dict[str, str] | None] = None
    SPLIT_LISTS: ClassVar[tuple[tuple[str, str], ...]] = tuple((f"ImageSets/Main/{s}.txt", s) for s in SPLITS)

    def _option_globs(self, key: str) -> tuple[str, ...]:
        value = self.options[key]
        return (value,) if isinstance(value, str) else tuple(value)

    def _annotation_dirs(self) -> list[Path]:
        for pattern in self._option_globs("annotations"):
            dirs = [d for d in _dirs(self.root, [pattern]) if any(d.glob("*.xml"))]
            if dirs:
                return dirs
        raise BadInput(
            self.root, f"no annotation XML found (looked in {', '.join(self._option_globs('annotations'))})"
        )

    def _split_table(self, ann_dirs: list[Path]) -> dict[str, str]:
        table: dict[str, str] = {}
        for base in [self.root, *(d.parent for d in ann_dirs)]:
            for name, split in self.SPLIT_LISTS:
                listing = base / name
                if listing.exists():
                    for line in read_text(self.source_file(listing)).split():
                        table.setdefault(line.strip(), split)
        return table

    def items(self) -> list[tuple[str, str, str | None, list[str]]]:
        ann_dirs = self._annotation_dirs()
        image_dirs = _dirs(self.root, self._option_globs("images"))
        xmls: dict[str, Path] = {}
        for d in ann_dirs:
            for p in sorted(d.glob("*.xml")):
                xmls.setdefault(p.stem, p)
        images: dict[str, Path] = {}
        for d in image_dirs:
            for p in sorted(d.iterdir()):
                if p.suffix.lower() in IMAGE_SUFFIXES:
                    images.setdefault(p.stem, p)
        splits = self._split_table(ann_dirs)
        default = self.options["split"]
        out = []
        for stem in sorted(xmls.keys() | images.keys()):
            image = images.get(stem)
            folder = (image or xmls[stem]).parent.relative_to(self.root).as_posix().lower()
            split = splits.get(stem) or ("test" if "test" in folder else default)
            out.append(
                (
                    stem,
                    split,
                    str(xmls[stem]) if stem in xmls else None,
                    [str(image)] if image is not None else [str(d) for d in image_dirs],
                )
            )
        return out

    def parse(self, doc: XmlDoc) -> tuple[list[Box], tuple[int, int] | None, dict[str, Any]]:
        """Boxes, stated size and extra meta of one annotation file."""
        boxes, size = parse_voc(
            doc, table=self.TABLE, drop_difficult=self.options["drop_difficult"], classes=self.classes
        )
        return boxes, size, {}

    def image_name(self, doc: XmlDoc) -> tuple[str | None, int | None]:
        """The image file name the annotation states, if any, and its line."""
        return doc.text(doc.root, "filename"), doc.line(doc.root.find("filename"))

    def read(self, item: tuple[str, str, str | None, list[str]]) -> Sample:
        stem, split, xml, candidates = item
        if xml is None:
            raise BadInput(candidates[0], "image has no annotation XML")
        path = self.source_file(xml)
        doc = XmlDoc(path)
        boxes, size, meta = self.parse(doc)
        image = self._find_image(doc, candidates)
        if image is None and self.options["require_images"]:
            raise BadInput(
                path,
                f"no image for this annotation ({stem}.* or the file it names) in "
                f"{', '.join(self._option_globs('images'))}",
            )
        source = self.options["source"]
        return Sample(
            image_id=f"{source}/{stem}",
            source=source,
            image_path=image,
            boxes=boxes,
            split=split,
            size=size,
            meta={"file": path.relative_to(self.root).as_posix(), **meta},
        )

    def _find_image(self, doc: XmlDoc, candidates: list[str]) -> Path | None:
        """The image found by stem, else the file the annotation names in one of the image folders."""
        if len(candidates) == 1 and Path(candidates[0]).exists() and not Path(candidates[0]).is_dir():
            return Path(candidates[0])
        filename, line = self.image_name(doc)
        for d in map(Path, candidates) if filename else ():
            path = self.named_file(d, filename, cited=doc.path, line=line)
            if path.exists():
                return path
        return None
