"""Reading a source's files, shared by the readers: image listings, label text and JSON, label rasters,
list-valued options. Every failure is a :class:`BadInput` naming the file.

The rules for what may be read are :mod:`rs_formats.inputs`' and :mod:`rs_formats.pixel_limits`' (one home for
every package); here they are applied and their errors become BadInput: only regular files are opened (a
FIFO or a link to ``/dev/zero`` named like a label is refused before it is opened), JSON nests at most
``MAX_JSON_DEPTH`` levels, label rasters and image headers stay under ``MAX_SOURCE_PIXELS``. Which
directory a file must lie in is the reader's (:meth:`rs_annotate.readers.base.Reader.source_file`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from rs_formats import FormatError, inputs, pixel_limits
from rs_formats.rasters import read_array

from ..types import BadInput

#: Image files the detection and segmentation readers pair with label files, by lower-case suffix.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
#: The split names sources use for folders and list files.
SPLITS = ("train", "val", "test")


def listing(folder: Path, suffixes: tuple[str, ...] = ()) -> list[Path]:
    """The visible entries of ``folder`` (those with one of ``suffixes``, in any case, if given) in sorted
    order; [] when it does not exist. A folder that exists but cannot be listed (no permission, a file
    where a folder belongs) is a BadInput saying so, never taken for a missing or empty one."""
    try:
        with os.scandir(folder) as entries:
            names = [e.name for e in entries]
    except FileNotFoundError:
        return []
    except NotADirectoryError:
        raise BadInput(folder, "is a file, not a folder") from None
    except OSError as exc:
        raise BadInput(folder, f"unreadable folder: {exc.strerror or exc}") from None
    return [
        folder / n
        for n in sorted(names)
        if not n.startswith(".") and (not suffixes or n.lower().endswith(suffixes))
    ]


def index_images(folder: Path) -> dict[str, Path]:
    """Image files directly in ``folder`` by stem (if a stem has several, the first name in sorted order).

    Anything but a folder counts, so that a FIFO or device named like an image is refused by name when it
    is read, rather than missing without a word.
    """
    found: dict[str, Path] = {}
    for path in listing(folder, IMAGE_SUFFIXES):
        if not path.is_dir():
            found.setdefault(path.stem, path)
    return found


@contextmanager
def as_bad_input() -> Iterator[None]:
    """The shared rules' FormatErrors as BadInput (what the readers raise, and ``--skip-bad`` counts)."""
    try:
        yield
    except BadInput:
        raise
    except FormatError as exc:
        raise BadInput(exc.path, exc.reason, exc.line) from None


def read_bytes(path: Path) -> bytes:
    """A label file's bytes (at most :data:`rs_formats.inputs.MAX_TEXT_BYTES`), or BadInput."""
    with as_bad_input():
        return inputs.read_bytes(path, inputs.MAX_TEXT_BYTES)


def read_text(path: Path) -> str:
    """A label file as text (a UTF-8 byte-order mark dropped), or BadInput (unreadable, not UTF-8)."""
    with as_bad_input():
        return inputs.read_text(path)


def read_json(path: Path) -> Any:
    """A JSON file's value, or BadInput naming the line of a syntax error (or the depth it nests to)."""
    with as_bad_input():
        return inputs.read_json(path)


def names_option(value: str | Any) -> list[str]:
    """A list option given as a sequence or as a comma-separated string (the CLI's ``--opt splits=a,b``)."""
    return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else list(value)


def regular_file(path: str | Path) -> Path:
    """``path`` if it is a regular file (for libraries that open it themselves, such as OpenCV); BadInput."""
    with as_bad_input():
        inputs.check_regular(path)
    return Path(path)


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) from the image header, without decoding the pixels."""
    with as_bad_input():
        return pixel_limits.image_size(path, limit=pixel_limits.MAX_SOURCE_PIXELS)


def load_array(path: Path, mode: str | None = None) -> np.ndarray:
    """Pixels of a label image (converted to ``mode`` when given), or BadInput for a broken file."""
    with as_bad_input():
        return np.asarray(
            pixel_limits.decode_image(
                inputs.read_bytes(path), limit=pixel_limits.MAX_SOURCE_PIXELS, path=path, mode=mode
            )
        )


def load_raster(path: Path) -> tuple[np.ndarray, float | None]:
    """An image file's bands (HxWxB, any sample type) and its own nodata value, or BadInput
    (:func:`rs_formats.rasters.read_array`; conversion applies the imagery rule)."""
    with as_bad_input():
        return read_array(path, limit=pixel_limits.MAX_SOURCE_PIXELS)


def check_same_size(mask: np.ndarray, mask_path: Path, size: tuple[int, int], what: str) -> None:
    """BadInput unless the mask is ``size`` (width, height) pixels, the size of ``what``."""
    if (mask.shape[1], mask.shape[0]) != size:
        raise BadInput(
            mask_path, f"mask is {mask.shape[1]}x{mask.shape[0]} but {what} is {size[0]}x{size[1]}"
        )
