"""LEVIR (Zou & Shi, IEEE TIP 2018): 800x600 Google Earth scenes with airplanes, ships and oil tanks.

Convention (as released): one text file per image with the image's stem (``10001.jpg`` / ``10001.txt``),
side by side in the release's folders (``imageWithLabel/``). One object per line::

    class x1 y1 x2 y2

``class`` is 1 (airplane), 2 (ship) or 3 (oil tank, "oilpot" in the release); ``x1 y1`` is the top-left and
``x2 y2`` the bottom-right corner in pixels, read as box edges (no +1). Fields are separated by spaces,
tabs or commas; blank lines are ignored; an empty file is an image with no objects.

Bad input (per item, so ``--skip-bad`` can pass over it): a line without exactly five fields, a
non-numeric value, an unknown class id, a label file without an image, an image without a label file
(unless ``missing_label="empty"``: LEVIR's negative images then count as scenes with no objects).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..types import BadInput, Box, Sample
from .base import Option, Reader, ReaderInfo, parse_float, register, split_option
from .files import index_images, read_text

CLASSES: dict[int, str] = {1: "airplane", 2: "ship", 3: "oil tank"}
_FIELDS = re.compile(r"[\s,]+")


def parse_levir(text: str, path: Path) -> list[Box]:
    """The boxes of one LEVIR label file."""
    boxes = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        fields = [f for f in _FIELDS.split(line.strip()) if f]
        if not fields:
            continue
        if len(fields) != 5:
            raise BadInput(path, f"expected 'class x1 y1 x2 y2', got {len(fields)} field(s)", lineno)
        cls = parse_float(fields[0], path, lineno, "class id")
        if cls not in CLASSES:
            known = ", ".join(f"{k} ({v})" for k, v in CLASSES.items())
            raise BadInput(path, f"unknown class id {fields[0]!r}; LEVIR has {known}", lineno)
        x1, y1, x2, y2 = (parse_float(f, path, lineno) for f in fields[1:])
        boxes.append(Box(CLASSES[int(cls)], x1, y1, x2, y2))
    return boxes


@register
class LevirReader(Reader):
    """LEVIR image + same-stem label pairs anywhere below the root (options: :attr:`OPTIONS`)."""

    info = ReaderInfo(
        name="levir",
        title="LEVIR airplane / ship / oil-tank detection (per-image 'class x1 y1 x2 y2' text labels)",
        layout=(
            "ROOT/  (any folder tree: every image with a same-stem .txt beside it)\n"
            "  imageWithLabel/\n    10001.jpg\n    10001.txt   lines 'class x1 y1 x2 y2', "
            "class 1 airplane, 2 ship, 3 oil tank"
        ),
        license="research use; no licence text in the release (Google Earth imagery); cite Zou & Shi 2018",
        url="http://levir.buaa.edu.cn/ (LEVIR, Beihang University)",
        kind="captions",
    )
    OPTIONS = (
        Option(
            "label_dir", None, "folder below the root holding the labels, when they are not beside the images"
        ),
        Option("image_dir", ".", "folder below the root holding the images (with label_dir)"),
        Option(
            "missing_label",
            "error",
            "an image without a label file: an error, or a scene with no objects",
            ("error", "empty"),
        ),
        split_option("train", " (LEVIR ships no split)"),
    )

    def _pairs(self) -> list[tuple[dict[str, Path], dict[str, Path]]]:
        label_dir = self.options["label_dir"]
        if label_dir is not None:
            labels_at = self.root / label_dir
            images_at = self.root / self.options["image_dir"]
            for folder in (labels_at, images_at):
                if not folder.is_dir():
                    raise BadInput(folder, "no such directory")
                self.trust_dir(folder)  # named by the user
            return [(index_images(images_at), {p.stem: p for p in sorted(labels_at.glob("*.txt"))})]
        pairs = []
        for top, _, _ in sorted(os.walk(self.root)):
            folder = Path(top)
            images = index_images(folder)
            labels = {p.stem: p for p in sorted(folder.glob("*.txt"))}
            if images or labels:
                pairs.append((images, labels))
        return pairs

    def items(self) -> list[tuple[str | None, str | None]]:
        out = []
        for images, labels in self._pairs():
            for stem in sorted(images.keys() | labels.keys()):
                image, label = images.get(stem), labels.get(stem)
                out.append((str(image) if image else None, str(label) if label else None))
        if not out:
            raise BadInput(self.root, "no images or .txt label files found")
        return out

    def read(self, item: tuple[str | None, str | None]) -> Sample:
        image, label = item
        if image is None:
            raise BadInput(label, "label file has no image (same stem, .jpg/.png/.tif/...)")
        image_path = Path(image)
        if label is None:
            if self.options["missing_label"] != "empty":
                raise BadInput(
                    image_path,
                    "image has no label file (same stem, .txt); "
                    "pass missing_label=empty to read it as a scene with no objects",
                )
            boxes = []
        else:
            label_path = self.source_file(label)
            boxes = parse_levir(read_text(label_path), label_path)
        rel = image_path.relative_to(self.root).with_suffix("").as_posix()
        return Sample(
            image_id=f"levir/{rel}",
            source="levir",
            image_path=image_path,
            boxes=boxes,
            split=self.options["split"],
            meta={"file": image_path.relative_to(self.root).as_posix(), "labelled": label is not None},
        )
