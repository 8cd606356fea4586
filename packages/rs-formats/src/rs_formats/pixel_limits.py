"""Opening images, from files or dataset rows, under the project's pixel limits and in expected formats.

A decompression bomb is a small file whose header declares a huge image: a 300 KB PNG of 50,000 x 50,000
pixels decodes to 7.5 GB of RGB. PIL refuses only above twice its own limit (about 179 Mpx) and merely warns
below that, so every image here is opened header-first (no pixels decoded), its declared width x height
checked against a limit of ours, and only then decoded. Two limits, each for a stated reason:

* :data:`MAX_SOURCE_PIXELS` = 2**30 (1.07 Gpx; 3.2 GB as RGB): source images a converter reads. DOTA v2.0
  holds legitimate scenes of about 20,000 x 20,000 pixels and GF-2 scenes up to 29,200 x 27,620 (806 Mpx),
  which conversion tiles; the limit leaves a third on top of that and refuses terapixel headers.
* :data:`MAX_ROW_PIXELS` = 2**26 (67 Mpx, 8,192 x 8,192; 192 MiB as RGB): an image stored in a dataset row.
  Converters resize or tile before storing and refuse to store anything larger (``--keep-original`` of a
  whole DOTA v2 scene is refused: tile it), so a larger header in a row is corrupt or hostile, and a
  consumer decoding rows in DataLoader workers holds at most this much per image.

A pixel count alone lets a strip through: 2,000,000 x 1 pixels is only 2 Mpx, yet resizing its short side
to a model's 224 asks for 24.6 GB. So each side is bounded too (:data:`MAX_SIDE` = 65,536, JPEG's own
limit and twice the largest GF-2 scene side) and so is the aspect ratio (:data:`MAX_ASPECT` = 100: a
swath a converter tiles is a few times longer than wide, never a hundred), both on the header.

Only raster formats that datasets use are opened (:data:`DECODED_FORMATS`): PIL's other plugins (EPS, which
runs Ghostscript, and the like) never see our inputs. Errors are :class:`~rs_formats.FormatError` naming
the file, or the dataset and row. Needs pillow (imported when first used).
"""

from __future__ import annotations

import io
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import FormatError
from .inputs import open_regular

if TYPE_CHECKING:
    from PIL import Image

MAX_SOURCE_PIXELS = 1 << 30
MAX_ROW_PIXELS = 1 << 26
MAX_SIDE = 1 << 16
MAX_ASPECT = 100
#: PIL format names accepted (PIL's JPEG plugin also opens cameras' multi-picture JPEGs, as "MPO").
DECODED_FORMATS = ("JPEG", "PNG", "TIFF", "BMP", "WEBP", "GIF")
#: Encodings a tool stores images in, as every ``--image-format`` flag spells them, with PIL's names.
STORED_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
#: What PIL raises on broken files, besides its own errors (plugins fail in many ways on hostile input).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError, MemoryError)


@contextmanager
def _pil_guard():
    """PIL's own bomb check off while ours applies (it would warn, refuse sizes we accept, or pre-empt our
    message); every caller checks the header against its limit before decoding."""
    from PIL import Image

    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # EXIF and palette oddities: the pixels are fine
            yield
    finally:
        Image.MAX_IMAGE_PIXELS = old


def _where(path: str | Path, row: str | None, message: str) -> FormatError:
    return FormatError(path, f"{row}: {message}" if row else message)


def open_image(
    data: bytes, *, limit: int = MAX_ROW_PIXELS, path: str | Path = "<image bytes>", row: str | None = None
) -> Image.Image:
    """The header of encoded image bytes (pixels not decoded yet), refused above ``limit`` pixels or in a
    format outside :data:`DECODED_FORMATS`. ``path`` names the bytes in errors; ``row`` adds the dataset row
    (``"split 'test', image 'rsicd/1'"``)."""
    return _open(io.BytesIO(data), limit, path, row)


def image_size(path: str | Path, *, limit: int = MAX_SOURCE_PIXELS) -> tuple[int, int]:
    """``(width, height)`` of an image file from its header alone (a regular file, under ``limit``)."""
    with open_regular(path) as f:
        return _open(f, limit, path, None).size


def _open(fp, limit: int, path: str | Path, row: str | None) -> Image.Image:
    from PIL import Image, UnidentifiedImageError

    try:
        with _pil_guard():
            img = Image.open(fp, formats=DECODED_FORMATS)
    except UnidentifiedImageError:
        raise _where(
            path, row, f"cannot decode image: not in a known format ({', '.join(DECODED_FORMATS)})"
        ) from None
    except (*_DECODE_ERRORS, Image.DecompressionBombError) as exc:
        raise _where(path, row, f"cannot decode image ({type(exc).__name__}: {exc})") from None
    check_pixels(img.size, limit, path, row)
    return img


def check_pixels(size: tuple[int, int], limit: int, path: str | Path, row: str | None = None) -> None:
    """FormatError unless ``size`` (width, height) is positive, at most ``limit`` pixels, :data:`MAX_SIDE`
    a side and :data:`MAX_ASPECT` times longer than wide."""
    w, h = size
    if w <= 0 or h <= 0:
        raise _where(path, row, f"image has no pixels ({w}x{h})")
    if max(w, h) > MAX_SIDE:
        raise _where(
            path, row, f"image declares {w}x{h}, a side over the limit of {MAX_SIDE:,}; refusing to decode it"
        )
    if max(w, h) > MAX_ASPECT * min(w, h):
        raise _where(
            path,
            row,
            f"image declares {w}x{h}, more than {MAX_ASPECT} times longer than wide (resizing it would take "
            "gigabytes); refusing to decode it",
        )
    if w * h > limit:
        raise _where(
            path,
            row,
            f"image declares {w}x{h} = {w * h:,} pixels, over the limit of {limit:,} "
            "(a decompression bomb, or a scene to tile first); refusing to decode it",
        )


def decode_image(
    data: bytes,
    *,
    limit: int = MAX_ROW_PIXELS,
    path: str | Path = "<image bytes>",
    row: str | None = None,
    draft: tuple[int, int] | None = None,
    mode: str | None = "RGB",
) -> Image.Image:
    """Decode encoded bytes under ``limit`` (see :func:`open_image`), converted to ``mode`` (None: as stored).

    ``draft`` lets a JPEG decode at a reduced scale (DCT scaling) that still covers that size. A file is
    read first with :func:`rs_formats.inputs.read_bytes` (regular files only).
    """
    from PIL import Image

    img = open_image(data, limit=limit, path=path, row=row)
    try:
        with _pil_guard():
            if draft is not None and img.format == "JPEG":
                img.draft("RGB", draft)
            img.load()
            return img.convert(mode) if mode is not None and img.mode != mode else img
    except (*_DECODE_ERRORS, Image.DecompressionBombError) as exc:
        raise _where(path, row, f"cannot decode image ({type(exc).__name__}: {exc})") from None
