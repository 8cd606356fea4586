"""Image decoding, bounded re-encoding, tiling, and the box rules that go with them.

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
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from .types import BadInput, Box

# Whole DOTA v2 / ISPRS scenes are far beyond PIL's decompression-bomb guard (89 Mpx); we read trusted
# local datasets, but still refuse absurd sizes (a corrupt header claiming terapixels).
MAX_PIXELS = 2_000_000_000


@contextmanager
def pixel_limit() -> Iterator[None]:
    """PIL's decompression-bomb guard raised to :data:`MAX_PIXELS` while opening a file (restored after)."""
    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = old


_DECODE_ERRORS = (OSError, SyntaxError, ValueError, Image.DecompressionBombError, EOFError, IndexError,
                  TypeError, KeyError, MemoryError)


@dataclass
class Loaded:
    image: Image.Image  # RGB
    original_bytes: bytes | None  # the file as stored, when it came from a file
    format: str | None  # "JPEG", "PNG", ... of the file
    size: tuple[int, int]  # (width, height) of the original


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # 16-bit / float rasters: scale their full range to 8 bits rather than clip at 255.
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        arr = np.zeros_like(arr) if hi <= lo else (arr - lo) * (255.0 / (hi - lo))
        img = Image.fromarray(arr.round().astype(np.uint8), "L")
    return img.convert("RGB")


def load_image(path: str | Path | None, array: np.ndarray | None = None, *,
               draft_to: tuple[int, int] | None = None) -> Loaded:
    """Decode an image file (or wrap an HxWx3 array) as RGB; any decoding failure is BadInput.

    ``draft_to`` lets JPEG decoding skip detail that a later downscale would throw away (DCT scaling),
    never going below that size.
    """
    if array is not None:
        arr = np.asarray(array)
        if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
            raise BadInput(path or "<array>", f"image array must be HxWx3 uint8, got {arr.shape} {arr.dtype}")
        return Loaded(Image.fromarray(arr, "RGB"), None, None, (arr.shape[1], arr.shape[0]))
    if path is None:
        raise BadInput("<sample>", "sample has neither an image file nor pixels")
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(path, f"cannot read image: {exc.strerror or exc}") from None
    try:
        with pixel_limit(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PIL warns about EXIF/palette oddities; the pixels are fine
            img = Image.open(io.BytesIO(data))
            fmt = img.format
            size = img.size
            if draft_to is not None and fmt == "JPEG":
                img.draft("RGB", draft_to)
            img.load()
            rgb = _to_rgb(img)
    except _DECODE_ERRORS as exc:
        raise BadInput(path, f"cannot decode image ({type(exc).__name__}: {exc})") from None
    if size[0] <= 0 or size[1] <= 0:
        raise BadInput(path, f"image has no pixels ({size[0]}x{size[1]})")
    return Loaded(rgb, data, fmt, size)


def target_size(width: int, height: int, short_side: int | None) -> tuple[int, int]:
    """The size after bounding the shorter side to ``short_side`` (never upscaling)."""
    if not short_side or min(width, height) <= short_side:
        return width, height
    scale = short_side / min(width, height)
    if width <= height:
        return short_side, max(1, round(height * scale))
    return max(1, round(width * scale)), short_side


def resize(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    if img.size == size:
        return img
    # reducing_gap: PIL first reduces by an integer factor (fast box filter), then resamples.
    return img.resize(size, Image.BICUBIC, reducing_gap=3.0)


def encode(img: Image.Image, fmt: str = "JPEG", quality: int = 90) -> bytes:
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


def check_boxes(boxes: list[Box], width: int, height: int, path: str | Path, *,
                drop_bad: bool = False) -> BoxCheck:
    """Apply the box rules above; BadInput names the file and the offending box."""
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
        c = replace(b, x0=max(0.0, b.x0), y0=max(0.0, b.y0), x1=min(float(width), b.x1),
                    y1=min(float(height), b.y1))
        out.clipped += c != b
        out.boxes.append(c)
    return out


def scale_boxes(boxes: list[Box], sx: float, sy: float, width: float, height: float) -> list[Box]:
    """Boxes in pixels of an image resized by (sx, sy) to width x height (rounding never leaves it)."""
    if sx == 1 and sy == 1:
        return list(boxes)
    return [replace(b, x0=b.x0 * sx, y0=b.y0 * sy, x1=min(b.x1 * sx, width), y1=min(b.y1 * sy, height))
            for b in boxes]


def _starts(length: int, size: int, step: int) -> list[int]:
    if length <= size:
        return [0]
    starts = list(range(0, length - size, step))
    starts.append(length - size)  # the last window is aligned to the edge, as in the DOTA devkit
    return starts


def tile_windows(width: int, height: int, size: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """(x, y, w, h) windows covering the image, row by row."""
    if size <= 0:
        raise ValueError(f"tile size must be positive, got {size}")
    if not 0 <= overlap < size:
        raise ValueError(f"tile overlap must be in [0, {size}), got {overlap}")
    step = size - overlap
    return [(x, y, min(size, width), min(size, height))
            for y in _starts(height, size, step) for x in _starts(width, size, step)]


def boxes_in_window(boxes: list[Box], window: tuple[int, int, int, int], min_visible: float = 0.5) -> list[Box]:
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
