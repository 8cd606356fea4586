"""Imagery beyond 8-bit RGB: the one rule that turns any raster into the 8-bit RGB every consumer decodes.

Remote-sensing rasters are often 16-bit, float, single-band or multi-band, with nodata. Stored as they
are, every consumer decodes them with PIL's ``convert("RGB")``, which clips 16-bit values to white, float
values to black, and reads a 16-bit colour PNG's high bytes only. So conversion applies one rule
(:func:`to_rgb8`), and a converter stores its result:

* **8-bit RGB stays as it is.** An image whose samples are 8-bit RGB, with no nodata value in effect, is
  kept as it is (:func:`kept_as_is`; a converter keeps the file's bytes and does not apply ``bands`` or
  ``value_range`` to it). Everything below is for the other images.
* **Bands.** ``bands`` names one band (grey) or three (R, G, B), 1-based: ``(4, 3, 2)`` is a false-colour
  composite of an RGBN scene. Defaults by band count: 1 band -> that band as grey; 2 bands -> the first as
  grey (the second is alpha in grey+alpha files; pick a dual-polarisation band with ``bands``); 3 -> as
  they are; 4 or more -> the first three (RGB of RGBA and RGBN). Alpha is dropped, never applied.
* **Masking before statistics.** A pixel is masked when any of its chosen bands is NaN, infinite or equal
  to ``nodata`` (a converter passes the user's value when given, else the file's own nodata tag when
  its reader knows it); QGIS's multi-band colour renderer masks the same way. Masked pixels take no part in the statistics and become 0 (black).
* **Scaling.** With ``value_range=(lo, hi)`` every band maps ``lo..hi`` linearly onto 0..255. Without it,
  8-bit samples are taken as they are (they already are display values: 8-bit grey, RGBA) and booleans
  map to 0 and 255; every other type gets a per-image, per-band 2-98 percentile stretch (QGIS's default
  cumulative cut, the usual display rule), percentiles taken over the unmasked pixels with numpy's
  default linear interpolation. Values outside the range clip to 0 or 255; results round half to even.
  Where a band's 2nd and 98th percentiles coincide, values above them become 255 and the rest 0 (the
  stretch's limit); a band without unmasked pixels is 0.

Choices the paper leaves open (its datasets are all 8-bit RGB): the percentiles (2-98), per image and per
band rather than per dataset (each row stands alone; a fixed ``value_range`` gives dataset-wide
consistency), masking a pixel when any band is nodata rather than per band, the default bands, dropping
alpha, and black for masked pixels.

:func:`read_array` reads a raster into an ``HxWxB`` array and the nodata value its file declares: TIFFs
through tifffile (multi-band, 16-bit, float; the GDAL_NODATA tag), 16-bit colour PNGs through OpenCV (PIL
keeps only their high bytes), everything else through PIL under :mod:`rs_formats.pixel_limits`' pixel limits.
"""

from __future__ import annotations

import io
import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import inputs, pixel_limits
from .errors import FormatError

#: The stretch's percentiles when no fixed range is given.
PERCENTILES = (2.0, 98.0)
#: Decoded bytes of one raster at most: a 4-band 16-bit GF-2 scene (806 Mpx, 6.4 GB) fits, a hostile
#: 1 Gpx x 100-band float64 header does not.
MAX_ARRAY_BYTES = 8 * pixel_limits.MAX_SOURCE_PIXELS
#: Rows scaled at once (a block of a 30,000-pixel-wide scene is 240 MB of float64).
_BLOCK_ROWS = 1024
_TIFF_MAGIC = (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: PIL modes whose values are colours through a table or another colour space: looked up to RGB(A) first.
_COLOUR_MODES = {"P": "RGB", "PA": "RGBA", "CMYK": "RGB", "YCbCr": "RGB", "LAB": "RGB", "HSV": "RGB"}


@dataclass(frozen=True)
class ImageryOptions:
    """How a raster that is not 8-bit RGB becomes 8-bit RGB (see the module's rule)."""

    #: 1-based band numbers: one (grey) or three (R, G, B); None: the default for the band count.
    bands: tuple[int, ...] | None = None
    #: Fixed (min, max) mapped onto 0..255; None: 8-bit as is, otherwise the 2-98 percentile stretch.
    value_range: tuple[float, float] | None = None
    #: Pixels equal to this value are masked (given: it replaces the file's own nodata tag).
    nodata: float | None = None

    def __post_init__(self) -> None:
        if self.bands is not None:
            object.__setattr__(self, "bands", check_bands(self.bands))
        if self.value_range is not None:
            object.__setattr__(self, "value_range", check_range(self.value_range))
        if self.nodata is not None and not isinstance(self.nodata, (int, float)):
            raise ValueError(f"nodata must be a number, got {self.nodata!r}")


def check_bands(bands) -> tuple[int, ...]:
    """``bands`` as a tuple of one or three positive ints (``"4,3,2"`` is accepted too); ValueError if not."""
    given = bands
    if isinstance(bands, str):
        try:
            bands = [int(b) for b in bands.split(",")]
        except ValueError:
            raise ValueError(
                f"bands must be comma-separated band numbers like 4,3,2, got {given!r}"
            ) from None
    out = tuple(bands)
    if len(out) not in (1, 3) or not all(
        isinstance(b, int) and not isinstance(b, bool) and b >= 1 for b in out
    ):
        raise ValueError(f"bands must be one or three band numbers from 1 (e.g. 4,3,2), got {given!r}")
    return out


def check_range(value_range) -> tuple[float, float]:
    """``(min, max)`` as finite floats with min < max; ValueError if not."""
    try:
        lo, hi = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ValueError(f"range must be two numbers MIN MAX, got {value_range!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"range must be two finite numbers with MIN < MAX, got {lo:g} {hi:g}")
    return lo, hi


def default_bands(n_bands: int) -> tuple[int, int, int]:
    """The bands shown for an image of ``n_bands`` (the module's defaults), as R, G, B."""
    return (1, 1, 1) if n_bands < 3 else (1, 2, 3)


def is_rgb8(array: np.ndarray) -> bool:
    """Whether ``array`` is 8-bit RGB (HxWx3 uint8): what the rule leaves as it is."""
    return array.dtype == np.uint8 and array.ndim == 3 and array.shape[2] == 3


def kept_as_is(array: np.ndarray, nodata: float | None = None) -> bool:
    """Whether the rule leaves an image as it is: 8-bit RGB with no nodata value in effect."""
    return is_rgb8(array) and nodata is None


def to_rgb8(
    array: np.ndarray,
    *,
    bands: tuple[int, ...] | None = None,
    value_range: tuple[float, float] | None = None,
    nodata: float | None = None,
) -> np.ndarray:
    """An HxW or HxWxB raster as HxWx3 uint8 by the module's rule (ValueError for an unusable array)."""
    arr = np.asarray(array)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] < 1 or 0 in arr.shape:
        raise ValueError(f"an image must be HxW or HxWxB with pixels, got shape {arr.shape}")
    if not (
        arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise ValueError(f"image samples must be integers, floats or booleans, got {arr.dtype}")
    chosen = check_bands(bands) if bands is not None else default_bands(arr.shape[2])
    if max(chosen) > arr.shape[2]:
        raise ValueError(f"band {max(chosen)} asked for, but the image has {arr.shape[2]} band(s)")
    if len(chosen) == 1:
        chosen = chosen * 3
    if value_range is not None:
        value_range = check_range(value_range)
    elif arr.dtype == np.uint8:
        value_range = (0.0, 255.0)
    elif arr.dtype == np.bool_:
        value_range = (0.0, 1.0)
    planes = {b: arr[:, :, b - 1] for b in dict.fromkeys(chosen)}
    masked = np.zeros(arr.shape[:2], dtype=bool)
    for plane in planes.values():
        if np.issubdtype(plane.dtype, np.floating):
            masked |= ~np.isfinite(plane)
        if nodata is not None and not math.isnan(nodata):
            masked |= plane == nodata
    scaled = {b: _scale(plane, masked, value_range) for b, plane in planes.items()}
    out = np.stack([scaled[b] for b in chosen], axis=-1)
    out[masked] = 0
    return out


def _scale(plane: np.ndarray, masked: np.ndarray, value_range: tuple[float, float] | None) -> np.ndarray:
    """One band onto 0..255 (masked pixels are zeroed by the caller), a block of rows at a time so that a
    whole scene never has float copies beside it (only the percentiles see every unmasked value at once)."""
    if plane.dtype == np.uint8 and value_range == (0.0, 255.0):
        return plane.copy()
    if value_range is None:
        valid = plane[~masked]
        if valid.dtype.kind != "u":  # numpy interpolates signed integers in their own type, which wraps
            valid = valid.astype(np.float64)
        if valid.size == 0:
            return np.zeros(plane.shape, dtype=np.uint8)
        lo, hi = (float(v) for v in np.percentile(valid, PERCENTILES))
        del valid
        if hi <= lo:  # the stretch's limit: a step at the percentile
            return np.where(plane > lo, 255, 0).astype(np.uint8)
    else:
        lo, hi = value_range
    out = np.empty(plane.shape, dtype=np.uint8)
    for top in range(0, plane.shape[0], _BLOCK_ROWS):
        values = plane[top : top + _BLOCK_ROWS].astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            scaled = np.clip((values - lo) * 255.0 / (hi - lo), 0.0, 255.0)
        out[top : top + _BLOCK_ROWS] = np.rint(np.nan_to_num(scaled, nan=0.0))
    return out


def read_array(
    source: str | Path | bytes,
    *,
    limit: int = pixel_limits.MAX_SOURCE_PIXELS,
    name: str | Path | None = None,
    row: str | None = None,
    draft: tuple[int, int] | None = None,
) -> tuple[np.ndarray, float | None]:
    """A raster file (a path, read under :mod:`rs_formats.inputs`' rules, or its bytes) as an ``HxWxB``
    array in native byte order, and the nodata value its file declares (None without one).

    ``limit`` bounds the pixels its header may declare (checked before decoding); ``name`` names bytes in
    errors, ``row`` the dataset row they came from; ``draft`` lets a JPEG decode at a reduced scale that
    still covers that size. Every failure is a :class:`~rs_formats.FormatError` naming the file.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, where = bytes(source), name or "<image bytes>"
    else:
        data, where = inputs.read_bytes(source), name or source
    nodata = None
    if is_tiff(data):
        arr, nodata = _read_tiff(data, limit, _Where(where, row))
        if arr is not None:
            return arr, nodata
    if data[:8] == _PNG_MAGIC and len(data) > 25 and data[24] == 16 and data[25] in (2, 4, 6):
        return _read_png16(data, limit, _Where(where, row)), None
    img = pixel_limits.decode_image(data, limit=limit, path=where, row=row, draft=draft, mode=None)
    if img.mode in _COLOUR_MODES:
        img = img.convert(_COLOUR_MODES[img.mode])
    elif img.mode == "1":
        img = img.convert("L")
    arr = _native(np.asarray(img))
    return (arr[:, :, None] if arr.ndim == 2 else arr), nodata


@dataclass(frozen=True)
class _Where:
    """A file and, for bytes from a dataset row, the row: what errors name."""

    path: str | Path
    row: str | None

    def error(self, message: str) -> FormatError:
        return FormatError(self.path, f"{self.row}: {message}" if self.row else message)


def is_tiff(data: bytes) -> bool:
    """Whether encoded bytes are a TIFF (classic or BigTIFF, either byte order)."""
    return data[:4] in _TIFF_MAGIC


def _check_size(width: int, height: int, n_bands: int, itemsize: int, limit: int, where: _Where) -> None:
    pixel_limits.check_pixels((width, height), limit, where.path, where.row)
    if width * height * n_bands * itemsize > MAX_ARRAY_BYTES:
        raise where.error(
            f"image declares {width}x{height} pixels of {n_bands} band(s) of {itemsize} byte(s), over "
            f"the {MAX_ARRAY_BYTES:,} bytes a raster may decode to; refusing to decode it",
        )


def _read_tiff(data: bytes, limit: int, where: _Where) -> tuple[np.ndarray | None, float | None]:
    """A TIFF through tifffile, and its nodata value; no array for what PIL decodes as every consumer of a
    stored row does: 8-bit RGB and grey, bilevel and palette images (tifffile hands over palette indices,
    and JPEG-in-TIFF decoders differ in their chroma upsampling)."""
    import tifffile

    try:
        with tifffile.TiffFile(io.BytesIO(data)) as tif:
            series = tif.series[0]
            nodata = _tiff_nodata(tif.pages[0])
            shape = dict(zip(series.axes, series.shape))
            other = [(a, n) for a, n in shape.items() if a not in "YX" and n > 1]
            if "Y" not in shape or "X" not in shape or len(other) > 1:
                raise where.error(f"a TIFF of axes {series.axes} {series.shape} is not one image with bands")
            n_bands = other[0][1] if other else 1
            palette = tif.pages[0].photometric == tifffile.PHOTOMETRIC.PALETTE
            if palette or (series.dtype in (np.uint8, np.bool_) and n_bands in (1, 3)):
                return None, nodata
            _check_size(shape["X"], shape["Y"], n_bands, series.dtype.itemsize, limit, where)
            arr = series.asarray()
    except FormatError:
        raise
    except (tifffile.TiffFileError, OSError, ValueError, IndexError, KeyError, struct.error) as exc:
        raise where.error(f"cannot decode TIFF ({type(exc).__name__}: {exc})") from None
    axes = [a for a in series.axes if a in "YX" or shape[a] > 1]
    arr = arr.reshape([shape[a] for a in axes])
    order = [axes.index("Y"), axes.index("X")] + [i for i, a in enumerate(axes) if a not in "YX"]
    arr = np.ascontiguousarray(arr.transpose(order))
    return _native(arr[:, :, None] if arr.ndim == 2 else arr), nodata


def _native(arr: np.ndarray) -> np.ndarray:
    return arr.astype(arr.dtype.newbyteorder("="), copy=False)


def _tiff_nodata(page) -> float | None:
    """The GDAL_NODATA tag's value (an ASCII number), None without one or when it is not a number."""
    tag = page.tags.get(42113)
    if tag is None:
        return None
    try:
        return float(str(tag.value).strip().strip("\0"))
    except ValueError:
        return None


def _read_png16(data: bytes, limit: int, where: _Where) -> np.ndarray:
    """A 16-bit colour PNG (RGB, grey+alpha, RGBA) with all 16 bits, through OpenCV."""
    pixel_limits.open_image(data, limit=limit, path=where.path, row=where.row)  # the header's size first
    import cv2

    try:
        arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:
        arr = None
    if arr is None or arr.ndim != 3:
        raise where.error("cannot decode 16-bit PNG")
    if data[25] == 4:  # grey+alpha comes back as BGRA with the grey repeated
        return np.ascontiguousarray(arr[:, :, [0, 3]])
    return np.ascontiguousarray(arr[:, :, [2, 1, 0, 3][: arr.shape[2]]])
