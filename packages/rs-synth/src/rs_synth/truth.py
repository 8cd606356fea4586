"""Ground truth returned by every writer and saved beside (never inside) the format's own files.

``<out>/_truth.json`` holds, per image, the paths written, the split, the scene's ground, and every
object's natural class name, its label as written in the format, axis-aligned box, oriented box and
instance id. Tests compare what a reader parses back against it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

TRUTH_FILE = "_truth.json"


@dataclass
class ObjectTruth:
    cls: str  # natural class name ("storage tank")
    label: str  # the label as the format writes it ("storage-tank", "3", ...)
    box: list[float]  # x0, y0, x1, y1 in pixels of the written image
    poly: list[list[float]]  # oriented box corners, clockwise on screen
    angle: float = 0.0  # degrees, clockwise on screen
    instance_id: int = 0
    difficult: int = 0
    meta: dict = field(default_factory=dict)


@dataclass
class ImageTruth:
    index: int
    image: str  # path relative to the output directory
    width: int
    height: int
    split: str = "train"
    labels: list[str] = field(default_factory=list)  # label / mask files relative to the output directory
    ground: str = ""
    water: str | None = None
    theme: str = ""
    objects: list[ObjectTruth] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.objects:
            out[o.cls] = out.get(o.cls, 0) + 1
        return out


@dataclass
class Truth:
    format: str
    seed: int
    size: int
    images: list[ImageTruth] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)  # labels the format may contain
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    def save(self, out_dir: str | Path) -> Path:
        path = Path(out_dir) / TRUTH_FILE
        path.write_text(json.dumps(self.to_dict(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Truth:
        path = Path(path)
        if path.is_dir():
            path = path / TRUTH_FILE
        d = json.loads(path.read_text(encoding="utf-8"))
        images = []
        for im in d.pop("images"):
            im["objects"] = [ObjectTruth(**o) for o in im["objects"]]
            images.append(ImageTruth(**im))
        return cls(images=images, **d)
