"""The settings of a RemoteCount build (:class:`BuildRules`), each defined and checked once.

What each selection rule means is :mod:`rs_count.selection`'s docstring; the command line's flags map
one to one onto these fields (``--short-side`` is ``short_side``, ...).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .captions import DEFAULT, CaptionTemplate
from .classes import REMOTECOUNT_CLASSES, class_name

IMAGE_FORMATS = ("jpeg", "png")


@dataclass(frozen=True)
class BuildRules:
    classes: tuple[str, ...] = REMOTECOUNT_CLASSES
    min_count: int = 1
    max_count: int = 10
    min_share: float = 0.7
    min_object_size: float = 8.0
    min_visible: float = 0.9
    difficult: str = "skip-image"  # or "ignore"
    crop: str = "center-square"  # or "none"
    short_side: int = 384  # stored images' shorter side at most this (never enlarged)
    image_format: str = "jpeg"  # or "png"
    jpeg_quality: int = 92
    balanced: bool = False
    per_count: int | None = None
    seed: int = 0
    other_classes: tuple[str, ...] = ()  # extra non-counted class names your labels may use
    source: str = "dota"
    split: str = "test"
    template: CaptionTemplate = DEFAULT

    def __post_init__(self) -> None:
        bad = [c for c in self.classes if class_name(c) not in REMOTECOUNT_CLASSES]
        if bad:
            raise ValueError(f"classes {bad} are not RemoteCount classes ({', '.join(REMOTECOUNT_CLASSES)})")
        object.__setattr__(self, "classes", tuple(class_name(c) for c in self.classes))
        if not 1 <= self.min_count <= self.max_count <= 10:
            raise ValueError(
                f"need 1 <= min_count <= max_count <= 10, got {self.min_count}..{self.max_count}"
            )
        if not 0.5 < self.min_visible <= 1:
            raise ValueError(f"min_visible must be in (0.5, 1], got {self.min_visible}")
        if not 0.5 < self.min_share <= 1:
            raise ValueError(
                f"min_share must be in (0.5, 1] so that one class dominates, got {self.min_share}"
            )
        if self.difficult not in ("skip-image", "ignore"):
            raise ValueError(f"difficult must be 'skip-image' or 'ignore', got {self.difficult!r}")
        if self.crop not in ("center-square", "none"):
            raise ValueError(f"crop must be 'center-square' or 'none', got {self.crop!r}")
        if self.image_format not in IMAGE_FORMATS:
            raise ValueError(
                f"image_format must be one of {', '.join(IMAGE_FORMATS)}, got {self.image_format!r}"
            )
        if self.short_side < 16:
            raise ValueError(f"--short-side must be at least 16 px, got {self.short_side}")
        if self.per_count is not None and self.per_count < 1:
            raise ValueError(f"per_count must be positive, got {self.per_count}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["template"] = self.template.text
        return d
