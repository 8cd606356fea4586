"""One :class:`~rs_annotate.types.Sample` to its dataset rows (several when tiled), in small steps:

1. :func:`load_scene`: decode the image and apply the box rules (in pixels of the original image);
2. :func:`scene_windows`: the whole image, the sample's own window, or DOTA-style tiles of a large one;
3. per window: :func:`window_boxes` (boxes clipped to the tile; for mask sources, M2B on the tile's own
   pixels), :func:`window_view` (crop and bounded resize), :func:`window_captions` (B2C, unless the source has human captions or is not a caption set),
   :func:`stored_bytes` (re-encode, or keep the file's bytes when they are already what would be stored)
   and :func:`make_row`.

This runs inside the worker processes (the local pool's or Ray's); everything it needs travels in the
reader, the item and the options. :func:`convert_item` is the per-item rule both engines map.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import Any

from PIL import Image

from .b2c import boxes_to_captions
from .near_duplicates import phash
from .options import ConvertOptions
from .readers.base import Reader
from .source_images import (
    Loaded,
    boxes_in_window,
    check_boxes,
    check_row_size,
    encode,
    load_image,
    resize,
    scale_boxes,
    target_size,
    tile_windows,
)
from .types import BadInput, Box, Regions, Sample

Window = tuple[int, int, int, int]  # x, y, w, h in pixels of the original image
#: Formats (PIL's names) whose files are stored byte for byte when original pixels are kept.
ORIGINAL_FORMATS = ("JPEG", "PNG", "TIFF")


@dataclass
class SampleRows:
    """The rows of one Sample with the counters the report adds up."""

    image_id: str
    file: str  # the label (or image) file the rows come from, to name in errors
    rows: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (split, row)
    empty: list[str] = field(default_factory=list)  # windows without objects, skipped
    clipped: int = 0
    dropped: int = 0
    dropped_by_tiling: int = 0
    dropped_by_reader: dict[str, int] = field(default_factory=dict)


@dataclass
class Scene:
    """A sample's decoded image and its checked boxes, in pixels of the original image."""

    loaded: Loaded
    width: int
    height: int
    boxes: list[Box]  # after the box rules
    clipped: int  # boxes clipped to the image
    dropped: int  # bad boxes dropped (``bad_boxes="drop"``)
    tiled: bool
    regions: Regions | None = None  # mask sources: the boxes of any window, from the mask


@dataclass
class View:
    """One window as it is stored: its pixels, size and the scale from original pixels."""

    image: Image.Image
    width: int
    height: int
    sx: float
    sy: float
    #: The file's own bytes are what would be stored (kept original, or already small and in the format).
    original_bytes: bool
    #: Original pixels kept: when the file's bytes cannot be stored, a lossless encoding is.
    lossless: bool = False


def convert_item(reader: Reader, item: Any, opts: ConvertOptions, kind: str) -> tuple[str, Any]:
    """One reader item to ("ok", SampleRows), or ("bad", BadInput) when the item is bad input."""
    try:
        return "ok", convert_sample(reader.sample(item), opts, kind)
    except BadInput as exc:
        return "bad", exc


def convert_sample(sample: Sample, opts: ConvertOptions, kind: str) -> SampleRows:
    """One Sample to its rows and counters. Raises BadInput."""
    keep = opts.keeps_original(kind, opts.split or sample.split)
    scene = load_scene(sample, opts, kind, keep)
    file = str(sample.meta.get("file") or sample.image_path or sample.image_id)
    result = SampleRows(
        sample.image_id,
        file,
        clipped=scene.clipped,
        dropped=scene.dropped,
        dropped_by_reader=dict(sample.meta.get("dropped") or {}),
    )
    windows = [sample.window] if sample.window is not None else scene_windows(scene, opts)
    for window in windows:
        tiled = len(windows) > 1
        whole = not tiled and sample.window is None
        boxes, cut = window_boxes(scene, window, whole, opts)
        result.dropped_by_tiling += cut
        image_id = f"{sample.image_id}__{window[0]}_{window[1]}" if tiled else sample.image_id
        view = window_view(scene, window, whole, opts, keep)
        check_row_size(view.width, view.height, sample.image_path or f"<{sample.image_id}>")
        boxes = scale_boxes(boxes, view.sx, view.sy, view.width, view.height)
        captions = sample.captions
        if kind == "captions" and captions is None:
            captions = window_captions(boxes, view, image_id, opts)
            if captions is None:
                result.empty.append(image_id)
                continue
        data = stored_bytes(scene, view, opts)
        row = make_row(sample, image_id, data, view, boxes, captions, scene, window if tiled else None)
        result.rows.append((opts.split or sample.split, row))
    return result


def load_scene(sample: Sample, opts: ConvertOptions, kind: str, keep: bool = False) -> Scene:
    """The decoded image (JPEG-drafted when only a downscale is stored) and its boxes after the box rules."""
    path = sample.image_path if sample.image_path is not None else f"<{sample.image_id}>"
    tiled = bool(opts.tile) and kind == "captions" and sample.captions is None
    draft = None
    if not tiled and not keep and opts.short_side:
        draft = _draft_size(sample, opts.short_side)
    try:
        loaded = load_image(
            sample.image_path, sample.image, draft_to=draft, imagery=opts.imagery, nodata=sample.nodata
        )
    except BadInput as exc:
        exc.kind = "bad-image"  # what a skip_bad report counts it as
        raise
    width, height = loaded.size
    if sample.size is not None and tuple(sample.size) != (width, height):
        raise BadInput(
            path,
            f"labels are for a {sample.size[0]}x{sample.size[1]} image but the image is {width}x{height}",
        )
    checked = check_boxes(sample.boxes, width, height, path, drop_bad=opts.bad_boxes == "drop")
    return Scene(
        loaded, width, height, checked.boxes, checked.clipped, checked.dropped, tiled, sample.regions
    )


def _draft_size(sample: Sample, short_side: int) -> tuple[int, int] | None:
    """The size a JPEG may be decoded at: the stored window's shorter side still at least ``short_side``.

    A window smaller than the image needs its image size (``Sample.size``) to say so; without it the image
    is decoded whole.
    """
    if sample.window is None:
        return short_side, short_side
    if sample.size is None:
        return None
    scale = short_side / min(sample.window[2], sample.window[3])
    if scale >= 1:
        return None
    return math.ceil(sample.size[0] * scale), math.ceil(sample.size[1] * scale)


def scene_windows(scene: Scene, opts: ConvertOptions) -> list[Window]:
    if scene.tiled and max(scene.width, scene.height) > opts.tile:
        return tile_windows(scene.width, scene.height, opts.tile, opts.tile_overlap)
    return [(0, 0, scene.width, scene.height)]


def window_boxes(scene: Scene, window: Window, whole: bool, opts: ConvertOptions) -> tuple[list[Box], int]:
    """The boxes of a window in its own pixels, and how many boxes it touches but cuts too much to keep."""
    if whole:
        return scene.boxes, 0
    if scene.regions is not None:  # a mask source: the window's regions, as if the mask had been cut first
        return scene.regions.boxes(window), 0
    x, y, w, h = window
    kept = boxes_in_window(scene.boxes, window, opts.tile_min_visible)
    touching = sum(1 for b in scene.boxes if b.x1 > x and b.x0 < x + w and b.y1 > y and b.y0 < y + h)
    return kept, touching - len(kept)


def window_view(scene: Scene, window: Window, whole: bool, opts: ConvertOptions, keep: bool = False) -> View:
    """The window's pixels at their stored size: the shorter side bounded (never enlarged), or as they are."""
    loaded = scene.loaded
    if keep and whole:
        same = loaded.original_bytes is not None and loaded.format in ORIGINAL_FORMATS
        return View(loaded.image, scene.width, scene.height, 1.0, 1.0, original_bytes=same, lossless=True)
    x, y, w, h = window
    img = loaded.image
    if not whole:
        # The decoded image may be smaller than the original (JPEG draft): map original pixels onto it.
        dx, dy = img.size[0] / scene.width, img.size[1] / scene.height
        img = img.crop((round(x * dx), round(y * dy), round((x + w) * dx), round((y + h) * dy)))
    if keep:
        return View(img, w, h, 1.0, 1.0, original_bytes=False, lossless=True)
    out_w, out_h = target_size(w, h, opts.short_side)
    # Already small and in the target format: the file's bytes are stored as they are (no generation loss).
    same = (
        whole
        and (out_w, out_h) == (scene.width, scene.height)
        and loaded.original_bytes is not None
        and loaded.format == opts.image_format.upper()
    )
    return View(resize(img, (out_w, out_h)), out_w, out_h, out_w / w, out_h / h, original_bytes=same)


def window_captions(boxes: list[Box], view: View, image_id: str, opts: ConvertOptions) -> list[str] | None:
    """B2C's captions of a window; for one without objects the fixed caption, or None when it is skipped."""
    captions = boxes_to_captions(boxes, view.width, view.height, image_id, replace(opts.b2c, seed=opts.seed))
    if captions:
        return captions
    return [opts.empty_caption] * opts.b2c.n_captions if opts.keep_empty else None


def stored_bytes(scene: Scene, view: View, opts: ConvertOptions) -> bytes:
    if view.original_bytes:
        return scene.loaded.original_bytes
    if view.lossless:
        return encode(view.image, "png")
    return encode(view.image, opts.image_format, opts.jpeg_quality)


def make_row(
    sample: Sample,
    image_id: str,
    data: bytes,
    view: View,
    boxes: list[Box],
    captions: list[str] | None,
    scene: Scene,
    tile: Window | None,
) -> dict[str, Any]:
    """The rs-dataset row of one window (``tile`` None: not a tile)."""
    extra: dict[str, Any] = {"original_size": [scene.width, scene.height]}
    if tile is not None:
        extra["tile"] = list(tile)
    return {
        "image_id": image_id,
        "source": sample.source,
        "image": data,
        "width": view.width,
        "height": view.height,
        "captions": list(captions) if captions is not None else None,
        "objects": [
            {"label": b.label, "x0": b.x0, "y0": b.y0, "x1": b.x1, "y1": b.y1, "difficult": b.difficult}
            for b in boxes
        ],
        "label": sample.label,
        "count": sample.meta.get("count"),
        "count_label": sample.meta.get("count_label"),
        "phash": phash(view.image),
        "meta": _meta_json(sample, extra),
    }


def _meta_json(sample: Sample, extra: dict[str, Any]) -> str:
    meta = dict(sample.meta)
    if "file" not in meta and sample.image_path is not None:
        meta["file"] = str(sample.image_path)
    meta.update(extra)
    return json.dumps(meta, sort_keys=True, default=str)
