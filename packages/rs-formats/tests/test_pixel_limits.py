"""rs_formats.pixel_limits: the header is checked against our pixel limit before anything is decoded."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from rs_formats import FormatError
from rs_formats.pixel_limits import MAX_ROW_PIXELS, MAX_SOURCE_PIXELS, decode_image, image_size, open_image


def png_header(width: int, height: int, idat: bytes | None = None) -> bytes:
    """A PNG that declares ``width`` x ``height`` RGB pixels in a few dozen bytes (a decompression bomb's
    header; PIL decodes nothing until asked)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\0" * 64) if idat is None else idat)
        + chunk(b"IEND", b"")
    )


def test_the_limits_fit_dota_v2_scenes_and_refuse_bombs():
    assert 29_200 * 27_620 < MAX_SOURCE_PIXELS < 50_000 * 50_000  # DOTA v2's largest GF-2 scene; a bomb
    assert 8192 * 8192 == MAX_ROW_PIXELS  # what a stored row may hold


@pytest.mark.parametrize("size", [(50_000, 50_000), (10_000, 10_000)])
def test_a_bomb_row_is_refused_from_its_header(size):
    # 10000 x 10000 is below twice PIL's own limit: PIL would only warn, then decode 300 MB.
    data = png_header(*size)
    with pytest.raises(
        FormatError,
        match=rf"^ds: split 'test', image 'x/1': image declares {size[0]}x{size[1]} = "
        r"[\d,]+ pixels, over the limit of 67,108,864 .*refusing to decode it$",
    ):
        decode_image(data, path="ds", row="split 'test', image 'x/1'")


@pytest.mark.parametrize(
    "size, why",
    [
        ((2_000_000, 1), "a side over the limit of 65,536"),  # 2 Mpx: under the pixel limits
        ((1, 70_000), "a side over the limit of 65,536"),
        ((20_000, 199), "more than 100 times longer than wide"),
    ],
)
def test_a_strip_is_refused_from_its_header_however_few_its_pixels(size, why):
    w, h = size
    assert w * h < MAX_ROW_PIXELS
    with pytest.raises(FormatError, match=rf"^ds: split 'test', image 'x/1': image declares {w}x{h}, {why}"):
        decode_image(png_header(w, h), path="ds", row="split 'test', image 'x/1'")
    buf = io.BytesIO()
    Image.new("RGB", (200, 2)).save(buf, "PNG")
    assert decode_image(buf.getvalue()).size == (200, 2)  # 100 times longer than wide: still an image


def test_source_files_have_the_larger_limit(tmp_path):
    path = tmp_path / "scene.png"
    path.write_bytes(png_header(20_000, 20_000))  # a whole DOTA v2 scene: legitimate
    assert image_size(path) == (20_000, 20_000)
    path.write_bytes(png_header(50_000, 50_000))
    with pytest.raises(FormatError, match=rf"^{path}: image declares 50000x50000 .* limit of 1,073,741,824"):
        image_size(path)


def test_only_raster_formats_are_opened():
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"
    assert Image.open(io.BytesIO(eps)).format == "EPS"  # PIL would hand it to Ghostscript to decode
    with pytest.raises(FormatError, match=r"cannot decode image: not in a known format \(JPEG, PNG"):
        open_image(eps, path="x.eps")
    with pytest.raises(FormatError, match=r"^x.png: cannot decode image \("):
        decode_image(png_header(4, 4, idat=b"not zlib data"), path="x.png")


def test_decoding_modes_and_draft():
    buf = io.BytesIO()
    Image.fromarray(np.full((64, 96), 200, np.uint8)).save(buf, "JPEG")
    assert decode_image(buf.getvalue()).mode == "RGB"
    assert decode_image(buf.getvalue(), mode=None).mode == "L"
    assert decode_image(buf.getvalue(), draft=(24, 16)).size == (24, 16)  # DCT scaling by 4
