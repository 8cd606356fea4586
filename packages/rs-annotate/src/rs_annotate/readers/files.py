"""Reading a source's files, shared by the readers: image listings, label text and JSON, label rasters,
list-valued options. Every failure is a :class:`BadInput` naming the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..imaging import pixel_limit
from ..types import BadInput

#: Image files the detection and segmentation readers pair with label files, by lower-case suffix.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
#: The split names sources use for folders and list files.
SPLITS = ("train", "val", "test")


def index_images(folder: Path) -> dict[str, Path]:
    """Image files directly in ``folder`` by stem (if a stem has several, the first name in sorted order)."""
    found: dict[str, Path] = {}
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
                found.setdefault(path.stem, path)
    return found


def read_text(path: Path) -> str:
    """A label file as text (a UTF-8 byte-order mark dropped), or BadInput (unreadable, not UTF-8)."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as e:
        raise BadInput(path, f"cannot read: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise BadInput(path, f"not UTF-8 text ({e.reason} at byte {e.start})") from None


def read_json(path: Path) -> Any:
    """A JSON file's value, or BadInput naming the line of a syntax error."""
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as e:
        raise BadInput(path, f"not valid JSON: {e.msg} (column {e.colno})", e.lineno) from None


def names_option(value: str | Any) -> list[str]:
    """A list option given as a sequence or as a comma-separated string (the CLI's ``--opt splits=a,b``)."""
    return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else list(value)


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) from the image header, without decoding the pixels (whole DOTA v2 scenes too)."""
    try:
        with pixel_limit(), Image.open(path) as im:
            return im.size
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise BadInput(path, f"cannot read image header: {e}") from None


def load_array(path: Path, mode: str | None = None) -> np.ndarray:
    """Pixels of a label image (converted to ``mode`` when given), or BadInput for a broken file."""
    try:
        with Image.open(path) as im:
            if mode is not None and im.mode != mode:
                im = im.convert(mode)
            return np.asarray(im)
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise BadInput(path, f"cannot decode: {e}") from None


def check_same_size(mask: np.ndarray, mask_path: Path, size: tuple[int, int], what: str) -> None:
    """BadInput unless the mask is ``size`` (width, height) pixels, the size of ``what``."""
    if (mask.shape[1], mask.shape[0]) != size:
        raise BadInput(mask_path, f"mask is {mask.shape[1]}x{mask.shape[0]} but {what} is {size[0]}x{size[1]}")
