"""VisDrone2019-DET (Zhu et al., TPAMI 2021): drone images of traffic and people, 10 object classes.

Layout as released: ``VisDrone2019-DET-{train,val,test-dev}/images/<name>.jpg`` with
``annotations/<name>.txt``. One object per line, comma-separated (some files end lines with a comma)::

    x,y,w,h,score,category,truncation,occlusion

``(x, y)`` is the top-left corner, so the box is ``(x, y, x + w, y + h)``. ``category``: 0 ignored regions,
1 pedestrian, 2 people, 3 bicycle, 4 car, 5 van, 6 truck, 7 tricycle, 8 awning-tricycle, 9 bus,
10 motor, 11 others. Rules (documented choices):

- 0 "ignored regions" are areas the annotators left unlabelled (crowds, far-away traffic), not objects:
  always dropped.
- 11 "others" are objects outside the ten classes. They are kept as an eleventh class, "other object"
  ("three other objects"): RemoteCLIP's Table I counts 11 VisDrone classes, which we take to be the 10
  named ones and "others" (docs/fidelity.md); ``others_label`` renames them,
  ``others_label=null`` drops them (counted).
- ``max_occlusion`` (0 none, 1 partial, 2 heavy; default 2 keeps all) drops more occluded boxes.

Every dropped box is counted per reason in ``Sample.meta["dropped"]``. Names keep VisDrone's words
("people" stays "people"), except "motor", which means motorcycle, and "awning-tricycle" -> "awning
tricycle". The split comes from the folder name (``-train``, ``-val``, ``-test-dev`` / ``-test-challenge``).

Bad input (per item): a line with fewer than eight fields, a non-numeric field, a category outside 0-11,
an annotation file without an image or the reverse.
"""

from __future__ import annotations

from pathlib import Path

from ..types import BadInput, Box, Sample
from .base import Option, Reader, ReaderInfo, chosen_splits, parse_float, register, split_option
from .files import index_images, read_text

CATEGORIES: dict[int, str] = {
    0: "ignored regions",
    1: "pedestrian",
    2: "people",
    3: "bicycle",
    4: "car",
    5: "van",
    6: "truck",
    7: "tricycle",
    8: "awning tricycle",
    9: "bus",
    10: "motorcycle",
    11: "others",
}
IGNORED, OTHERS = 0, 11


def parse_visdrone(
    text: str, path: Path, *, others_label: str | None = None, max_occlusion: int = 2
) -> tuple[list[Box], dict[str, int]]:
    """The kept boxes of one annotation file and the number dropped per reason."""
    boxes: list[Box] = []
    dropped: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        fields = [f.strip() for f in line.strip().split(",")]
        if fields and fields[-1] == "":
            fields.pop()  # trailing comma
        if not fields:
            continue
        if len(fields) != 8:
            raise BadInput(
                path,
                f"expected 'x,y,w,h,score,category,truncation,occlusion', got {len(fields)} field(s)",
                lineno,
            )
        x, y, w, h = (parse_float(f, path, lineno) for f in fields[:4])
        names = ("score", "category", "truncation", "occlusion")
        score, category, truncation, occlusion = (
            parse_float(f, path, lineno, n) for f, n in zip(fields[4:], names)
        )
        if category not in CATEGORIES:
            raise BadInput(path, f"category {fields[5]!r} is not one of 0-11", lineno)
        reason = None
        if category == IGNORED:
            reason = "ignored regions"
        elif category == OTHERS and not others_label:
            reason = "others"
        elif occlusion > max_occlusion:
            reason = f"occlusion {int(occlusion)}"
        if reason:
            dropped[reason] = dropped.get(reason, 0) + 1
            continue
        label = others_label if category == OTHERS else CATEGORIES[int(category)]
        boxes.append(Box(str(label), x, y, x + w, y + h))
    return boxes, dropped


def split_of(folder: str) -> str:
    name = folder.lower()
    if name.endswith("-val") or name.endswith("_val"):
        return "val"
    if "test" in name:
        return "test"
    return "train"


@register
class VisDroneReader(Reader):
    """VisDrone2019-DET split folders (options: :attr:`OPTIONS`)."""

    info = ReaderInfo(
        name="visdrone",
        title="VisDrone2019-DET drone detection ('x,y,w,h,score,category,truncation,occlusion' per line)",
        layout=(
            "ROOT/  (one split folder, or a folder holding several)\n"
            "  VisDrone2019-DET-train/\n    images/0000002_00005_d_0000014.jpg\n"
            "    annotations/0000002_00005_d_0000014.txt\n  VisDrone2019-DET-val/ ...\n"
            "(category 0 'ignored regions' is dropped and counted in meta.dropped)"
        ),
        license="research use only (VisDrone terms: non-commercial, cite Zhu et al.)",
        url="https://github.com/VisDrone/VisDrone-Dataset",
        kind="captions",
    )
    OPTIONS = (
        Option(
            "others_label",
            "other object",
            "class name of category 11 'others' (null: drop those boxes, counted)",
        ),
        Option(
            "max_occlusion", 2, "drop boxes more occluded than this (0 none, 1 partial, 2 heavy)", (0, 1, 2)
        ),
        split_option(None, " (default: from each folder's name, -train / -val / -test-dev)"),
        Option("splits", None, "splits to read, e.g. train (default: every split folder)"),
    )

    def _split_roots(self) -> list[Path]:
        if (self.root / "annotations").is_dir() or (self.root / "images").is_dir():
            return [self.root]
        found = sorted(
            p
            for p in self.root.iterdir()
            if p.is_dir() and ((p / "annotations").is_dir() or (p / "images").is_dir())
        )
        if not found:
            raise BadInput(
                self.root, "no images/ + annotations/ folders (nor VisDrone*-DET-* folders with them)"
            )
        return found

    def items(self) -> list[tuple[str, str, str | None, str | None]]:
        roots = [(base, self.options["split"] or split_of(base.name)) for base in self._split_roots()]
        wanted = chosen_splits(self.root, self.options["splits"], list(dict.fromkeys(s for _, s in roots)))
        out = []
        for base, split in roots:
            if split not in wanted:
                continue
            images = index_images(base / "images")
            labels = {p.stem: p for p in sorted((base / "annotations").glob("*.txt"))}
            for stem in sorted(images.keys() | labels.keys()):
                image, label = images.get(stem), labels.get(stem)
                out.append((stem, split, str(image) if image else None, str(label) if label else None))
        return out

    def read(self, item: tuple[str, str, str | None, str | None]) -> Sample:
        stem, split, image, label = item
        if image is None:
            raise BadInput(label, f"annotation has no image images/{stem}.jpg")
        if label is None:
            raise BadInput(image, f"image has no annotation file annotations/{stem}.txt")
        label_path = self.source_file(label)
        boxes, dropped = parse_visdrone(
            read_text(label_path),
            label_path,
            others_label=self.options["others_label"],
            max_occlusion=self.options["max_occlusion"],
        )
        return Sample(
            image_id=f"visdrone/{stem}",
            source="visdrone",
            image_path=Path(image),
            boxes=boxes,
            split=split,
            meta={"file": Path(image).name, "dropped": dropped},
        )
