"""ISPRS 2D semantic labelling's RGB-coded label tiles (Potsdam and Vaihingen alike) -> M2B regions.

Colours: impervious surfaces (255, 255, 255), building (0, 0, 255), low vegetation (0, 255, 255), tree
(0, 255, 0), car (255, 255, 0), clutter/background (255, 0, 0); the eroded ``noBoundary`` labels add
black (0, 0, 0) for the ignored boundary band. A pixel of any other colour is BadInput (``tolerance``
absorbs small deviations, e.g. labels that went through lossy compression). Which classes get boxes by
default, and where the tiles lie in each release, is :mod:`rs_annotate.readers.isprs`'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..m2b import MaskRegions, decode_rgb_mask
from ..types import Box
from .files import check_same_size, load_array

ISPRS_CLASSES = ("impervious surface", "building", "low vegetation", "tree", "car", "clutter")
ISPRS_PALETTE = ((255, 255, 255), (0, 0, 255), (0, 255, 255), (0, 255, 0), (255, 255, 0), (255, 0, 0))
BOUNDARY = len(ISPRS_CLASSES)  # index of the black boundary band of the eroded labels
#: RemoteCLIP's four classes (Fig. 5): the rest gets no boxes.
DEFAULT_IGNORE = ("clutter", "impervious surface")


def parse_isprs(label_path: Path, size: tuple[int, int] | None = None, **options: Any) -> list[Box]:
    """Boxes of one RGB-coded ISPRS label tile; ``size`` (the image's) is checked against it, ``options``
    are :func:`isprs_regions`' (``ignore``, ``min_area``, ``connectivity``, ``tolerance``)."""
    return isprs_regions(label_path, size, **options).boxes()


def isprs_regions(
    label_path: Path,
    size: tuple[int, int] | None = None,
    *,
    ignore=DEFAULT_IGNORE,
    min_area: float = 0,
    connectivity: int = 8,
    tolerance: int = 0,
) -> MaskRegions:
    """The regions of one RGB-coded ISPRS label tile, for the boxes of the whole tile or of a window."""
    unknown = set(ignore) - set(ISPRS_CLASSES)
    if unknown:
        raise ValueError(
            f"ignore: unknown ISPRS class(es) {sorted(unknown)}; known: {', '.join(ISPRS_CLASSES)}"
        )
    rgb = load_array(label_path, "RGB")
    if size is not None:
        check_same_size(rgb, label_path, size, "the image")
    palette = {c: i for i, c in enumerate(ISPRS_PALETTE)}
    palette[(0, 0, 0)] = BOUNDARY
    index = decode_rgb_mask(rgb, palette, path=label_path, tolerance=tolerance)
    ignored = {ISPRS_CLASSES.index(n) for n in ignore} | {BOUNDARY}
    labels = {i: n for i, n in enumerate(ISPRS_CLASSES) if i not in ignored}
    return MaskRegions(
        index, labels, ignore=ignored, min_area=min_area, connectivity=connectivity, path=label_path
    )
