"""The types every part of rs-annotate shares: what a reader produces (a :class:`Sample` with its
:class:`Box` es) and the error for input that breaks its format's rules (:class:`BadInput`).

They live here, below the readers and the rules (M2B, B2C, imaging), so that those import them without
importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rs_formats import FormatError

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Box:
    """An axis-aligned object box in pixels of the original image (x1, y1 exclusive edges)."""

    label: str
    x0: float
    y0: float
    x1: float
    y1: float
    difficult: bool = False

    @property
    def area(self) -> float:
        return max(0.0, self.x1 - self.x0) * max(0.0, self.y1 - self.y0)

    @property
    def center(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2


class Regions(Protocol):
    """Boxes computed from a label mask for any window of the image (:class:`rs_annotate.m2b.MaskRegions`)."""

    def boxes(self, window: tuple[int, int, int, int] | None = None) -> list[Box]: ...


@dataclass
class Sample:
    """One image as a source describes it, before re-encoding and captioning."""

    image_id: str  # "<source>/<stem>", unique within the source
    source: str
    image_path: Path | None = None  # where the pipeline reads the image, unless `image` is given
    #: Pixels, for sources without image files (video frames, Parquet rows): HxW or HxWxB of any sample
    #: type, made 8-bit RGB by :mod:`rs_formats.rasters`' rule like every file.
    image: np.ndarray | None = None
    #: The source's nodata value, when the reader knows it (a file's own tag is read with the file).
    nodata: float | None = None
    boxes: list[Box] = field(default_factory=list)
    captions: list[str] | None = None  # human captions (RET-3): B2C is not applied
    label: int | None = None  # classification sets
    split: str = "train"
    size: tuple[int, int] | None = None  # (width, height) the labels refer to, when the source states it
    #: The part of the image to store, ``(x, y, w, h)`` in pixels of the original image (None: all of it, or
    #: its tiles). Its boxes are those inside it; the row keeps the sample's image id.
    window: tuple[int, int, int, int] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    #: Mask sources (M2B): the mask behind ``boxes``, so that a tile's boxes come from the tile's own pixels.
    regions: Regions | None = field(default=None, compare=False, repr=False)


class BadInput(FormatError):
    """Input that breaks its format's rules. The message, ``file[:line]: message``, names what to fix.

    One error family with the contracts' :class:`rs_formats.FormatError` (so it pickles across worker
    processes with its attributes). ``message`` is the text without the location; ``kind`` tags the
    problem ("malformed" unless a caller says otherwise, e.g. "missing-labels") so that a ``--skip-bad``
    run can count skips by kind.
    """

    def __init__(self, path: str | Path, message: str, line: int | None = None, kind: str = "malformed"):
        super().__init__(path, message, line)
        self.message = message
        self.kind = kind
