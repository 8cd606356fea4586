"""Finding source images, on rs-annotate's image handling.

Image listing (:func:`rs_annotate.readers.files.index_images`) and header sizes are rs-annotate's, as are
decoding under one pixel limit (whole DOTA v2 scenes are legitimate, not decompression bombs), cropping
and re-encoding, which its conversion does; rs-count adds only the look-up of an image that an annotation
row names.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rs_annotate import BadInput
from rs_annotate.readers.files import IMAGE_SUFFIXES, as_bad_input, index_images
from rs_annotate.readers.files import image_size as _header_size
from rs_formats.inputs import check_inside, join_inside


class ImageIndex:
    """The images directly in one directory, found by relative path, file name or stem (``absolute``: by
    absolute paths, as workers on other nodes need them)."""

    def __init__(self, root: str | Path, absolute: bool = False):
        self.root = Path(root).expanduser().resolve() if absolute else Path(root)
        if not self.root.exists():  # a file here is listing's error, not this one
            raise BadInput(self.root, "image directory does not exist", kind="missing-image")
        self._by_stem = index_images(self.root)

    def find(self, ref: str, *, cited: Path, line: int | None = None) -> Path:
        """The image a label file or annotation row refers to (``cited`` names that file in errors).

        ``ref`` is a name read from that file: it must stay inside the image directory (no absolute path,
        no ``..``, no symlink leading out), as :mod:`rs_formats.inputs` rules for every name from a label.
        """
        with as_bad_input():
            direct = join_inside(self.root, ref, cited=cited, line=line)
        if direct.suffix.lower() in IMAGE_SUFFIXES and direct.exists() and not direct.is_dir():
            return direct
        name = Path(ref).name
        found = self._by_stem.get(Path(name).stem if Path(name).suffix.lower() in IMAGE_SUFFIXES else name)
        if found is None:
            raise BadInput(
                cited,
                f"image {ref!r} not found in {self.root} (tried {', '.join(IMAGE_SUFFIXES)})",
                line,
                kind="missing-image",
            )
        with as_bad_input():
            return check_inside(self.root, found, cited=cited, line=line)


@contextmanager
def _bad_image() -> Iterator[None]:
    """Tag rs-annotate's image errors ``bad-image`` (what ``--skip-bad`` counts them as)."""
    try:
        yield
    except BadInput as exc:
        exc.kind = "bad-image"
        raise


def image_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` from the image header only (no decode)."""
    with _bad_image():
        return _header_size(path)
