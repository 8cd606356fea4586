"""AU-AIR (Bozcan & Kayacan, ICRA 2020): low-altitude drone video frames with 8 traffic classes.

One JSON object for all frames: ``{"info", "licenses", "categories", "annotations"}``. ``categories`` is
a plain list of 8 names whose index is the class id (Human, Car, Truck, Van, Motorbike, Bicycle, Bus,
Trailer); each ``annotations`` entry is one image: ``image_name``, ``image_width`` / ``image_height``
(floats such as ``1920.0``), flight metadata (``altitude``, ``latitude``, ``longtitude`` [sic], ...) and
``bbox: [{"top", "left", "height", "width", "class"}]`` in pixels. A box is
``(left, top, left + width, top + height)``. Class names keep the source's words, lower-cased ("human",
"motorbike"). AU-AIR ships no split: every frame goes to ``split`` (default "train").

Bad input: a file that is not JSON or lacks ``categories`` / ``annotations`` stops the listing; an entry
with missing or non-numeric box fields, a class id outside ``categories``, or an image file that does not
exist is a :class:`BadInput` for that entry alone (named by its index and image name).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..classnames import normalize
from ..types import BadInput, Box, Sample
from .base import Option, Reader, ReaderInfo, register, split_option
from .files import read_json

JSON_CANDIDATES = ("annotations.json", "auair2019annotations/annotations.json")
IMAGE_DIR_CANDIDATES = ("images", "auair2019data/images")
BOX_KEYS = ("top", "left", "height", "width", "class")


def _number(value: Any, path: Path, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadInput(path, f"{where}: {key} {value!r} is not a number")
    return float(value)


def parse_entry(
    entry: Any, index: int, categories: list[str], path: Path
) -> tuple[str, list[Box], tuple[int, int]]:
    """(image name, boxes, (width, height)) of ``annotations[index]``."""
    if not isinstance(entry, dict):
        raise BadInput(path, f"annotations[{index}] is not an object")
    name = entry.get("image_name")
    if not isinstance(name, str) or not name:
        raise BadInput(path, f"annotations[{index}] has no image_name")
    where = f"annotations[{index}] ({name})"
    for key in ("image_width", "image_height", "bbox"):
        if key not in entry:
            raise BadInput(path, f"{where}: missing {key!r}")
    size = (
        int(_number(entry["image_width"], path, where, "image_width")),
        int(_number(entry["image_height"], path, where, "image_height")),
    )
    if not isinstance(entry["bbox"], list):
        raise BadInput(path, f"{where}: bbox is not a list")
    boxes = []
    for k, b in enumerate(entry["bbox"]):
        at = f"{where} bbox[{k}]"
        if not isinstance(b, dict) or any(key not in b for key in BOX_KEYS):
            raise BadInput(path, f"{at}: expected an object with {', '.join(BOX_KEYS)}")
        top, left, height, width = (
            _number(b[key], path, at, key) for key in ("top", "left", "height", "width")
        )
        cls = _number(b["class"], path, at, "class")
        if cls != int(cls) or not 0 <= cls < len(categories):
            raise BadInput(
                path, f"{at}: class {b['class']!r} is not an index into the {len(categories)} categories"
            )
        boxes.append(Box(normalize(categories[int(cls)]), left, top, left + width, top + height))
    return name, boxes, size


@register
class AuairReader(Reader):
    """AU-AIR's one annotations JSON and its image folder (options: :attr:`OPTIONS`)."""

    info = ReaderInfo(
        name="auair",
        title="AU-AIR drone traffic detection (one annotations.json for all frames, 8 classes)",
        layout=(
            "ROOT/\n  annotations.json   {categories: [8 names], annotations: [{image_name, image_width, "
            "image_height, bbox: [{top, left, height, width, class}], ...flight data}]}\n"
            "  images/frame_20190829091111_x_0001973.jpg ...\n"
            "(the release's auair2019annotations/ + auair2019data/images/ also works)"
        ),
        license="CC BY-NC-SA 2.0 / CC BY-NC 2.0 per the JSON's licenses field: non-commercial",
        url="https://bozcani.github.io/AU-AIR-dataset.html (code: github.com/bozcani/auairdataset)",
        kind="captions",
    )
    OPTIONS = (
        Option(
            "annotations",
            None,
            "the JSON, relative to the root (default: annotations.json or "
            "auair2019annotations/annotations.json)",
        ),
        Option(
            "image_dir",
            None,
            "image folder below the root (default: images/ beside the JSON, or auair2019data/images)",
        ),
        split_option("train", " (AU-AIR ships no split)"),
    )

    def __init__(self, root: str | Path, **options: Any):
        super().__init__(root, **options)
        self.json_path = self._find_json()
        self.image_dir = self._find_images()

    def _find_json(self) -> Path:
        if self.options["annotations"] is not None:
            path = self.root / self.options["annotations"]
            if not path.exists():
                raise BadInput(path, "annotations JSON not found")
            return path  # named by the user
        for candidate in JSON_CANDIDATES:
            if (self.root / candidate).exists():
                return self.source_file(self.root / candidate)
        found = sorted(self.root.rglob("annotations.json"))
        if len(found) != 1:
            what = "no annotations.json" if not found else f"{len(found)} annotations.json files"
            raise BadInput(self.root, f"{what} below the root; pass annotations=PATH")
        return self.source_file(found[0])

    def _find_images(self) -> Path:
        if self.options["image_dir"] is not None:
            path = self.root / self.options["image_dir"]
            if not path.is_dir():
                raise BadInput(path, "image_dir is not a directory")
            return self.trust_dir(path)
        for candidate in (self.json_path.parent / "images", *(self.root / c for c in IMAGE_DIR_CANDIDATES)):
            if candidate.is_dir():
                return candidate
        raise BadInput(
            self.root, "no images/ folder beside the JSON (nor auair2019data/images); pass image_dir="
        )

    def _load(self) -> tuple[list[str], list[Any]]:
        data = read_json(self.json_path)
        if not isinstance(data, dict) or not isinstance(data.get("annotations"), list):
            raise BadInput(self.json_path, "expected an object with an 'annotations' list")
        categories = data.get("categories")
        if not isinstance(categories, list) or not all(isinstance(c, str) and c.strip() for c in categories):
            raise BadInput(self.json_path, "'categories' must be a list of class names (index = class id)")
        return categories, data["annotations"]

    def items(self) -> list[tuple[int, Any, tuple[str, ...]]]:
        categories, entries = self._load()
        # Sorted by image name so that the order never depends on how the JSON was assembled.
        keyed = [(e.get("image_name") if isinstance(e, dict) else None, i, e) for i, e in enumerate(entries)]
        keyed.sort(key=lambda t: (not isinstance(t[0], str), str(t[0]), t[1]))
        return [(i, e, tuple(categories)) for _, i, e in keyed]

    def read(self, item: tuple[int, Any, tuple[str, ...]]) -> Sample:
        index, entry, categories = item
        name, boxes, size = parse_entry(entry, index, list(categories), self.json_path)
        try:
            path = self.named_file(self.image_dir, name, cited=self.json_path)
        except BadInput as exc:
            raise BadInput(self.json_path, f"annotations[{index}]: {exc.message}") from None
        if not path.exists():
            raise BadInput(
                self.json_path, f"annotations[{index}]: image {name} not found in {self.image_dir}"
            )
        meta = {"file": name}
        for key, out in (("altitude", "altitude"), ("latitude", "latitude"), ("longtitude", "longitude")):
            if isinstance(entry.get(key), (int, float)):
                meta[out] = entry[key]
        return Sample(
            image_id=f"auair/{Path(name).stem}",
            source="auair",
            image_path=path,
            boxes=boxes,
            split=self.options["split"],
            size=size,
            meta=meta,
        )
