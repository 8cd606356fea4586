"""M2B (mask to box): segmentation masks become object boxes, as RemoteCLIP did for SEG-4.

Rules (each documented in the package README):

* Semantic masks (:func:`mask_to_boxes`): per class, every connected region of that class becomes one
  box. Connectivity is 8 by default (diagonal neighbours join), because thin diagonal structures such as
  roads and rivers would otherwise shatter into one box per pixel step; 4 is available.
* A region's box is the min/max of its pixels; ``x1``/``y1`` are exclusive (a one-pixel region at
  (x, y) is ``(x, y, x + 1, y + 1)``), matching :class:`~rs_annotate.types.Box`.
* A region with holes (a ring around a courtyard) is one region: holes never split it.
* ``min_area`` is the region's pixel count (not its box area), so a sparse diagonal line is not mistaken
  for a big object.
* Values listed in ``ignore`` (background, clutter, no-data) produce no boxes. A value that is neither
  in ``labels`` nor ignored is bad input: silently dropping it would hide a wrong palette or class table.
* Instance masks (:func:`instance_mask_to_boxes`, iSAID's ``boxes=instances``): one box per instance
  id, however many pieces the instance is drawn in (an occluded ship is still one ship). iSAID's default
  is the semantic rule above on its class mask, as the paper describes M2B for every SEG-4 set.
* Tiles (:class:`MaskRegions`): a tiled mask source gets each tile's boxes from the tile's own pixels, as
  if the mask had been cut first (what the mmsegmentation and iSAID-devkit tile converters do). Clipping
  the whole image's boxes instead would give a tile the box of a region that only passes by it (an
  L-shaped field's box covers tiles the field never enters) and would drop the large regions that a tile
  holds only a part of.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .types import BadInput, Box

_NO_PATH = Path("<mask>")


def _check_2d(mask: np.ndarray, path: Path, what: str) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise BadInput(path, f"{what} must be a 2-D array (H, W), got shape {mask.shape}")
    if not np.issubdtype(mask.dtype, np.integer) and mask.dtype != np.bool_:
        raise BadInput(path, f"{what} must hold integers, got dtype {mask.dtype}")
    return mask


def mask_to_boxes(
    mask: np.ndarray,
    labels: Mapping[int, str],
    *,
    ignore: Collection[int] = (),
    min_area: float = 0,
    connectivity: int = 8,
    path: str | Path | None = None,
) -> list[Box]:
    """Boxes of the connected regions of each class of an index mask.

    Boxes come out sorted by (class value, y0, x0) so that the result never depends on OpenCV's
    labelling order. ``path`` only names the file in error messages.
    """
    where = Path(path) if path is not None else _NO_PATH
    mask = _check_2d(mask, where, "mask")
    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity}")
    ignored = set(int(v) for v in ignore)
    values = np.unique(mask)
    unknown = [int(v) for v in values if int(v) not in labels and int(v) not in ignored]
    if unknown:
        n = int(np.isin(mask, unknown).sum())
        raise BadInput(
            where,
            f"mask holds class value(s) {unknown[:10]} ({n} pixels) that are neither labelled nor ignored",
        )
    boxes: list[Box] = []
    for value in values:
        value = int(value)
        if value in ignored:
            continue
        binary = (mask == value).astype(np.uint8)
        n, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=connectivity, ltype=cv2.CV_32S)
        # Row 0 is the background of the binary image; the rest are regions of this class.
        regions = stats[1:]
        regions = regions[regions[:, cv2.CC_STAT_AREA] >= min_area] if min_area > 0 else regions
        order = np.lexsort((regions[:, cv2.CC_STAT_LEFT], regions[:, cv2.CC_STAT_TOP]))
        label = labels[value]
        for x, y, w, h, _area in regions[order]:
            boxes.append(Box(label, float(x), float(y), float(x + w), float(y + h)))
    return boxes


def instance_mask_to_boxes(
    instance_ids: np.ndarray,
    instance_class: Mapping[int, str],
    *,
    ignore_ids: Collection[int] = (0,),
    min_area: float = 0,
    path: str | Path | None = None,
) -> list[Box]:
    """One box per instance id (the min/max over all its pixels), sorted by instance id.

    ``instance_class`` maps each instance id to its class name; an id present in the mask but missing
    from the mapping (and not ignored) is bad input.
    """
    where = Path(path) if path is not None else _NO_PATH
    ids = _check_2d(instance_ids, where, "instance mask")
    ignored = np.asarray(sorted(int(v) for v in ignore_ids), dtype=np.int64)
    flat = ids.reshape(-1).astype(np.int64, copy=False)
    keep = ~np.isin(flat, ignored) if ignored.size else np.ones(flat.shape, dtype=bool)
    pix = np.flatnonzero(keep)
    if pix.size == 0:
        return []
    vals = flat[pix]
    order = np.argsort(vals, kind="stable")
    vals, pix = vals[order], pix[order]
    starts = np.flatnonzero(np.r_[True, vals[1:] != vals[:-1]])
    uniq = vals[starts]
    missing = [int(v) for v in uniq if int(v) not in instance_class]
    if missing:
        raise BadInput(where, f"instance id(s) {missing[:10]} have no class (of {len(uniq)} instances)")
    width = ids.shape[1]
    ys, xs = pix // width, pix % width
    x0 = np.minimum.reduceat(xs, starts)
    x1 = np.maximum.reduceat(xs, starts) + 1
    y0 = np.minimum.reduceat(ys, starts)
    y1 = np.maximum.reduceat(ys, starts) + 1
    areas = np.diff(np.r_[starts, vals.size])
    return [
        Box(instance_class[int(v)], float(a), float(b), float(c), float(d))
        for v, a, b, c, d, n in zip(uniq, x0, y0, x1, y1, areas)
        if n >= min_area
    ]


@dataclass(eq=False)
class MaskRegions:
    """A decoded label mask kept with its sample: the boxes of the whole image or of any window of it.

    ``mask`` is an index mask with ``labels`` (value -> class) and ``ignore`` values, or, with
    ``instances=True``, an instance-id mask with ``labels`` (instance id -> class; id 0 is no instance).
    """

    mask: np.ndarray
    labels: Mapping[int, str]
    ignore: Collection[int] = ()
    min_area: float = 0
    connectivity: int = 8
    instances: bool = False
    path: str | Path | None = None

    def boxes(self, window: tuple[int, int, int, int] | None = None) -> list[Box]:
        """Boxes of the regions inside ``window`` (x, y, w, h; None: the whole mask), in its own pixels."""
        mask = self.mask
        if window is not None:
            x, y, w, h = window
            mask = mask[y : y + h, x : x + w]
        if self.instances:
            return instance_mask_to_boxes(mask, self.labels, min_area=self.min_area, path=self.path)
        return mask_to_boxes(
            mask,
            self.labels,
            ignore=self.ignore,
            min_area=self.min_area,
            connectivity=self.connectivity,
            path=self.path,
        )


def _pack(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.int32, copy=False)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def decode_rgb_mask(
    mask_rgb: np.ndarray,
    palette: Mapping[tuple[int, int, int], int],
    *,
    path: str | Path,
    tolerance: int = 0,
) -> np.ndarray:
    """An RGB-coded label image (ISPRS, iSAID) to an index mask (int32, H x W).

    A pixel matches a palette colour when every channel differs by at most ``tolerance`` (0: exact;
    a few units absorb JPEG-compressed labels). Any pixel that matches no colour is bad input: the
    error names the file, how many pixels and which colours, because a silent fallback class would
    turn a wrong palette into wrong boxes.
    """
    where = Path(path)
    arr = np.asarray(mask_rgb)
    if arr.ndim == 3 and arr.shape[2] == 4:  # RGBA label PNGs: alpha carries no class
        arr = arr[..., :3]
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise BadInput(where, f"an RGB label image must be H x W x 3, got shape {arr.shape}")
    if arr.dtype != np.uint8:
        raise BadInput(where, f"an RGB label image must be 8-bit, got dtype {arr.dtype}")
    out = np.full(arr.shape[:2], -1, dtype=np.int32)
    if tolerance <= 0:
        keys = _pack(arr)
        for colour, index in palette.items():
            out[keys == _pack(np.asarray(colour, dtype=np.int32))] = index
    else:
        signed = arr.astype(np.int16)
        for colour, index in palette.items():
            close = (np.abs(signed - np.asarray(colour, dtype=np.int16)) <= tolerance).all(axis=2)
            out[close & (out < 0)] = index
    bad = out < 0
    if bad.any():
        colours = np.unique(_pack(arr[bad]))
        shown = ", ".join(f"({c >> 16}, {(c >> 8) & 255}, {c & 255})" for c in colours[:5].tolist())
        more = f" and {colours.size - 5} more" if colours.size > 5 else ""
        raise BadInput(
            where,
            f"{int(bad.sum())} pixel(s) have colours not in the palette: {shown}{more} "
            f"(tolerance {tolerance})",
        )
    return out
