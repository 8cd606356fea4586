"""Image decoding, bounded re-encoding, tiling, and the box rules that go with them.

Pixel limits are :mod:`rs_formats.pixel_limits`' (one definition for every package): a source image may declare
up to ``MAX_SOURCE_PIXELS`` (whole DOTA v2 scenes), a stored row at most ``MAX_ROW_PIXELS``, so a row
this package writes is one every consumer decodes (:func:`check_row_size`).

Box rules (README "Boxes"), applied in pixels of the original image:

* a box with zero or negative width or height is bad input;
* a box wholly outside the image is bad input;
* a box partly outside is clipped to the image (DOTA's quadrilaterals often overhang by a pixel);
* with ``bad_boxes="drop"`` the two bad cases drop the box (counted in the report) instead of failing
  the image.

Tiling (:func:`tile_windows`, :func:`boxes_in_window`) follows the DOTA devkit: windows of ``size``
with ``overlap``, the last row/column aligned to the image edge; a box is clipped to each window and
kept when at least ``min_visible`` of its area remains (default 0.5).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from rs_formats.pixel_limits import MAX_ROW_PIXELS, MAX_SOURCE_PIXELS, open_image
from rs_formats.rasters import ImageryOptions, is_tiff, kept_as_is, read_array, to_rgb8

from .readers.files import as_bad_input, read_bytes
from .types import BadInput, Box


@dataclass
class Loaded:
    image: Image.Image  # RGB
    original_bytes: bytes | None  # the file as stored, when it came from a file and is 8-bit RGB
    format: str | None  # "JPEG", "PNG", ... of the file
    size: tuple[int, int]  # (width, height) of the original


def as_rgb8(
    array: np.ndarray, imagery: ImageryOptions, nodata: float | None, path: str | Path
) -> tuple[np.ndarray, bool]:
    """A raster as 8-bit RGB by :mod:`rs_formats.rasters`' rule, and whether it was kept as it is.

    ``imagery.nodata`` (``--nodata``) replaces the file's own ``nodata`` when given.
    """
    nodata = imagery.nodata if imagery.nodata is not None else nodata
    if kept_as_is(array, nodata):
        return array, True
    try:
        return to_rgb8(array, bands=imagery.bands, value_range=imagery.value_range, nodata=nodata), False
    except ValueError as exc:
        raise BadInput(path, str(exc)) from None


def load_image(
    path: str | Path | None,
    array: np.ndarray | None = None,
    *,
    draft_to: tuple[int, int] | None = None,
    imagery: ImageryOptions | None = None,
    nodata: float | None = None,
) -> Loaded:
    """Decode an image file (or take a reader's array) as 8-bit RGB; any decoding failure is BadInput.

    Every image goes through :mod:`rs_formats.rasters`' rule (``imagery``: the ``--bands``, ``--range``
    and ``--nodata`` flags; ``nodata``: what the reader knows of the source's): 8-bit RGB is taken as it
    is (a file keeps its bytes), anything else is converted, and then has no original bytes to keep.
    Only regular files are read, and a header declaring more than
    :data:`~rs_formats.pixel_limits.MAX_SOURCE_PIXELS` is refused before decoding (whole DOTA v2 scenes are
    legitimate; a decompression bomb is not). ``draft_to`` lets JPEG decoding skip detail that a later
    downscale would throw away (DCT scaling), never going below that size.
    """
    imagery = imagery or ImageryOptions()
    if array is not None:
        rgb, _ = as_rgb8(np.asarray(array), imagery, nodata, path or "<array>")
        return Loaded(Image.fromarray(rgb, "RGB"), None, None, (rgb.shape[1], rgb.shape[0]))
    if path is None:
        raise BadInput("<sample>", "sample has neither an image file nor pixels")
    path = Path(path)
    data = read_bytes(path)
    with as_bad_input():
        raster, file_nodata = read_array(data, limit=MAX_SOURCE_PIXELS, name=path, draft=draft_to)
        if is_tiff(data):
            fmt, size = "TIFF", (raster.shape[1], raster.shape[0])
        else:  # the header's size: a drafted JPEG decodes smaller
            header = open_image(data, limit=MAX_SOURCE_PIXELS, path=path)
            fmt, size = header.format, header.size
    rgb, kept = as_rgb8(raster, imagery, file_nodata if nodata is None else nodata, path)
    return Loaded(Image.fromarray(rgb, "RGB"), data if kept else None, fmt, size)


def check_row_size(width: int, height: int, path: str | Path) -> None:
    """BadInput when an image is too large to store as one dataset row (consumers refuse such rows)."""
    if width * height > MAX_ROW_PIXELS:
        raise BadInput(
            path,
            f"a {width}x{height} image is over the {MAX_ROW_PIXELS:,} pixels a dataset row may "
            "hold: tile it (--tile), or store it resized (--no-keep-original, --short-side)",
        )


def target_size(width: int, height: int, short_side: int | None) -> tuple[int, int]:
    """The size after bounding the shorter side to ``short_side`` (never upscaling)."""
    if not short_side or min(width, height) <= short_side:
        return width, height
    scale = short_side / min(width, height)
    if width <= height:
        return short_side, max(1, round(height * scale))
    return max(1, round(width * scale)), short_side


def resize(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``img`` at ``size`` (width, height), bicubic; the same image when it is that size already."""
    if img.size == size:
        return img
    # reducing_gap: PIL first reduces by an integer factor (fast box filter), then resamples.
    return img.resize(size, Image.BICUBIC, reducing_gap=3.0)


def encode(img: Image.Image, fmt: str = "JPEG", quality: int = 90) -> bytes:
    """The file bytes of ``img`` in format ``fmt`` (PIL's name, any case; ``quality`` applies to JPEG)."""
    buf = io.BytesIO()
    if fmt.upper() in ("JPEG", "JPG"):
        img.save(buf, "JPEG", quality=quality)
    else:
        img.save(buf, fmt.upper())
    return buf.getvalue()


# -- boxes ------------------------------------------------------------------------------------------


@dataclass
class BoxCheck:
    boxes: list[Box]
    clipped: int = 0
    dropped: int = 0


def check_boxes(
    boxes: list[Box], width: int, height: int, path: str | Path, *, drop_bad: bool = False
) -> BoxCheck:
    """Apply the box rules above; BadInput names the file and the offending box.

    Args:
        boxes: boxes in pixels of the image.
        width, height: the image's size.
        path: the file to name in errors.
        drop_bad: drop (and count) a box with zero area or wholly outside instead of raising.

    Returns:
        The kept boxes, clipped to the image, with how many were clipped and dropped.
    """
    out = BoxCheck([])
    for i, b in enumerate(boxes):
        problem = None
        if not (b.x1 > b.x0 and b.y1 > b.y0):
            problem = "has zero area"
        elif b.x1 <= 0 or b.y1 <= 0 or b.x0 >= width or b.y0 >= height:
            problem = f"lies wholly outside the {width}x{height} image"
        if problem:
            if drop_bad:
                out.dropped += 1
                continue
            raise BadInput(path, f"box {i + 1} ({b.label} {b.x0:g},{b.y0:g},{b.x1:g},{b.y1:g}) {problem}")
        c = replace(
            b, x0=max(0.0, b.x0), y0=max(0.0, b.y0), x1=min(float(width), b.x1), y1=min(float(height), b.y1)
        )
        out.clipped += c != b
        out.boxes.append(c)
    return out


def scale_boxes(boxes: list[Box], sx: float, sy: float, width: float, height: float) -> list[Box]:
    """Boxes in pixels of an image resized by (sx, sy) to width x height (rounding never leaves it)."""
    if sx == 1 and sy == 1:
        return list(boxes)
    return [
        replace(b, x0=b.x0 * sx, y0=b.y0 * sy, x1=min(b.x1 * sx, width), y1=min(b.y1 * sy, height))
        for b in boxes
    ]


def _starts(length: int, size: int, step: int) -> list[int]:
    if length <= size:
        return [0]
    starts = list(range(0, length - size, step))
    starts.append(length - size)  # the last window is aligned to the edge, as in the DOTA devkit
    return starts


def tile_windows(width: int, height: int, size: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """``(x, y, w, h)`` windows of ``size`` x ``size`` (or the image's side where it is smaller) covering a
    ``width`` x ``height`` image, row by row, neighbours sharing at least ``overlap`` pixels; the last window
    of a row or column is aligned to the edge."""
    if size <= 0:
        raise ValueError(f"tile size must be positive, got {size}")
    if not 0 <= overlap < size:
        raise ValueError(f"tile overlap must be in [0, {size}), got {overlap}")
    step = size - overlap
    return [
        (x, y, min(size, width), min(size, height))
        for y in _starts(height, size, step)
        for x in _starts(width, size, step)
    ]


def boxes_in_window(
    boxes: list[Box], window: tuple[int, int, int, int], min_visible: float = 0.5
) -> list[Box]:
    """Boxes clipped to a window, in window coordinates; those with < min_visible of their area left go."""
    x, y, w, h = window
    out = []
    for b in boxes:
        x0, y0 = max(b.x0, x), max(b.y0, y)
        x1, y1 = min(b.x1, x + w), min(b.y1, y + h)
        if x1 <= x0 or y1 <= y0:
            continue
        if (x1 - x0) * (y1 - y0) < min_visible * b.area:
            continue
        out.append(replace(b, x0=x0 - x, y0=y0 - y, x1=x1 - x, y1=y1 - y))
    return out
