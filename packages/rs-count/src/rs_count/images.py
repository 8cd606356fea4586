"""Finding, measuring and re-encoding source images for a counting dataset."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from .dota import BadInput

IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
# DOTA v2 holds images of up to ~20,000 x 20,000 px: legitimate, not decompression bombs.
_MAX_PIXELS = 1_000_000_000


class ImageIndex:
    """``stem -> path`` for the images of one directory (first suffix in IMAGE_SUFFIXES wins)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        if not self.root.is_dir():
            raise BadInput(self.root, "image directory does not exist", kind="missing-image")
        rank = {s: i for i, s in enumerate(IMAGE_SUFFIXES)}
        files = sorted((p for p in self.root.iterdir() if p.suffix.lower() in rank),
                       key=lambda p: (p.stem, rank[p.suffix.lower()]))
        self._by_stem: dict[str, Path] = {}
        self._by_name: dict[str, Path] = {}
        for p in files:
            self._by_stem.setdefault(p.stem, p)
            self._by_name[p.name] = p

    def find(self, ref: str, *, cited: Path, line: int | None = None) -> Path:
        """The image a label file or annotation row refers to (by stem, file name, or relative path)."""
        direct = self.root / ref
        if direct.suffix.lower() in IMAGE_SUFFIXES and direct.is_file():
            return direct
        name = Path(ref).name
        found = self._by_name.get(name) or self._by_stem.get(Path(name).stem if Path(name).suffix.lower()
                                                              in IMAGE_SUFFIXES else name)
        if found is None:
            raise BadInput(cited, f"image {ref!r} not found in {self.root} (tried {', '.join(IMAGE_SUFFIXES)})",
                           line, kind="missing-image")
        return found


def _open(path: Path) -> Image.Image:
    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = _MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(path)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise BadInput(path, f"not a readable image: {exc}", kind="bad-image") from None
    finally:
        Image.MAX_IMAGE_PIXELS = old


def image_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` from the header only (no decode)."""
    with _open(path) as img:
        return img.size


def bounded_size(w: int, h: int, shorter_side: int) -> tuple[int, int, float]:
    """Output size and scale: the shorter side shrunk to at most ``shorter_side`` (never enlarged)."""
    scale = min(1.0, shorter_side / min(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale)), scale


def reencode(path: Path, crop: tuple[int, int, int, int] | None, shorter_side: int, fmt: str = "jpeg",
             quality: int = 92) -> tuple[bytes, int, int]:
    """Crop (left, top, right, bottom), shrink, and encode an image; returns ``(bytes, width, height)``."""
    img = _open(path)
    try:
        box = crop or (0, 0, *img.size)
        out_w, out_h, scale = bounded_size(box[2] - box[0], box[3] - box[1], shorter_side)
        if img.format == "JPEG" and scale < 0.5:
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale: a large JPEG then costs a fraction of the time.
            full_w = img.size[0]
            img.draft("RGB", (max(1, int(full_w * scale)), max(1, int(img.size[1] * scale))))
            f = img.size[0] / full_w
            box = tuple(round(v * f) for v in box)  # type: ignore[assignment]
        rgb = img.convert("RGB").crop(box)
        if rgb.size != (out_w, out_h):
            rgb = rgb.resize((out_w, out_h), Image.Resampling.BICUBIC, reducing_gap=3.0)
        buf = io.BytesIO()
        if fmt == "png":
            rgb.save(buf, format="PNG", optimize=False)
        else:
            rgb.save(buf, format="JPEG", quality=quality)
        return buf.getvalue(), out_w, out_h
    except OSError as exc:  # truncated or corrupt data, found only while decoding
        raise BadInput(path, f"cannot be decoded: {exc}", kind="bad-image") from None
    finally:
        img.close()
