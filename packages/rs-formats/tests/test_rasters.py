"""The imagery rule (rs_formats.rasters) against an independent numpy computation of it, on rasters read
back from real files: 16-bit PNG, uint16 4-band GeoTIFF, float32 with NaN and with a nodata tag, 1 band."""

import io

import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image

from rs_formats import FormatError
from rs_formats.rasters import ImageryOptions, kept_as_is, read_array, to_rgb8


def expected(raster, bands, value_range=None, nodata=None):
    """The rule, written out: chosen bands, NaN/inf/nodata masked in any band, 2-98 percentiles of the
    unmasked pixels (or the fixed range), clipped and rounded half to even, masked pixels black."""
    a = raster.astype(np.float64)
    a = a[:, :, None] if a.ndim == 2 else a
    chosen = a[:, :, [b - 1 for b in bands]]
    bad = ~np.isfinite(chosen).all(axis=2)
    if nodata is not None:
        bad |= (chosen == nodata).any(axis=2)
    chosen[bad] = np.nan
    out = np.zeros(chosen.shape, dtype=np.uint8)
    for c in range(3):
        v = chosen[:, :, c]
        lo, hi = value_range if value_range else np.nanpercentile(v, [2, 98])
        scaled = np.clip((v - lo) * 255.0 / (hi - lo), 0, 255)
        out[:, :, c] = np.where(np.isnan(scaled), 0, np.round(scaled))
    return out


def tiff(array, **kwargs) -> bytes:
    buf = io.BytesIO()
    tifffile.imwrite(buf, array, **kwargs)
    return buf.getvalue()


def png(array) -> bytes:
    ok, buf = cv2.imencode(".png", array)
    assert ok
    return buf.tobytes()


RNG = np.random.default_rng(7)


def test_16_bit_png_grey_and_colour():
    grey = RNG.integers(300, 4096, (40, 50), dtype=np.uint16)  # 12-bit sensor values in 16 bits
    buf = io.BytesIO()
    Image.fromarray(grey).save(buf, "PNG")
    arr, nodata = read_array(buf.getvalue())
    assert arr.shape == (40, 50, 1) and arr.dtype == np.uint16 and nodata is None
    assert np.array_equal(arr[:, :, 0], grey)
    out = to_rgb8(arr)
    assert np.array_equal(out, expected(grey, (1, 1, 1)))
    assert out.std() > 50  # the stretch uses the full 8 bits (PIL's convert("RGB") gives pure white)
    rgb = RNG.integers(0, 4096, (30, 20, 3), dtype=np.uint16)
    arr, _ = read_array(png(rgb[:, :, ::-1]))  # OpenCV writes BGR
    assert arr.dtype == np.uint16 and np.array_equal(arr, rgb)  # all 16 bits, not PIL's high bytes
    assert np.array_equal(to_rgb8(arr), expected(rgb, (1, 2, 3)))


def test_uint16_four_band_geotiff_default_and_chosen_bands():
    rgbn = RNG.integers(0, 10000, (32, 48, 4), dtype=np.uint16)
    rgbn[:2] = 0  # a nodata border
    for data in (
        tiff(
            rgbn,
            photometric="rgb",
            extrasamples=[0],
            compression="zlib",
            extratags=[(42113, "s", 0, "0", True)],
        ),
        tiff(np.moveaxis(rgbn, 2, 0), photometric="minisblack", planarconfig="separate"),
    ):
        arr, nodata = read_array(data)
        assert arr.shape == (32, 48, 4) and np.array_equal(arr, rgbn)
        assert np.array_equal(to_rgb8(arr, nodata=nodata), expected(rgbn, (1, 2, 3), nodata=nodata))
        assert np.array_equal(to_rgb8(arr, bands=(4, 3, 2)), expected(rgbn, (4, 3, 2)))
    assert nodata is None  # the second file has no tag
    assert np.array_equal(to_rgb8(rgbn, nodata=0)[:2], np.zeros((2, 48, 3), np.uint8))
    fixed = to_rgb8(rgbn, bands=(4, 3, 2), value_range=(0, 4000))
    assert np.array_equal(fixed, expected(rgbn, (4, 3, 2), value_range=(0, 4000)))


def test_float32_with_nan_and_with_a_nodata_tag():
    scene = RNG.normal(0.2, 0.05, (40, 40)).astype(np.float32)
    scene[5, 7] = np.nan  # one NaN pixel must not turn the scene black
    scene[6, 8] = np.inf
    arr, nodata = read_array(tiff(scene))
    out = to_rgb8(arr, nodata=nodata)
    assert nodata is None and np.array_equal(out, expected(scene, (1, 1, 1)))
    assert out[5, 7].tolist() == [0, 0, 0] and out.mean() > 60
    scene = np.nan_to_num(scene, nan=-9999.0, posinf=-9999.0)
    scene[:, :4] = -9999.0
    arr, nodata = read_array(tiff(scene, extratags=[(42113, "s", 0, "-9999", True)]))
    assert nodata == -9999.0
    out = to_rgb8(arr, nodata=nodata)
    assert np.array_equal(out, expected(scene, (1, 1, 1), nodata=-9999.0))
    assert not out[:, :4].any() and out[:, 4:].std() > 40  # the fill is masked before the statistics


def test_one_band_is_grey_and_eight_bit_is_taken_as_it_is():
    band = RNG.integers(-500, 3000, (20, 30), dtype=np.int16)
    arr, _ = read_array(tiff(band))
    out = to_rgb8(arr)
    assert np.array_equal(out, expected(band, (1, 1, 1)))
    assert (out[:, :, 0] == out[:, :, 2]).all()
    grey = RNG.integers(0, 256, (10, 12), dtype=np.uint8)
    assert np.array_equal(to_rgb8(grey), np.repeat(grey[:, :, None], 3, axis=2))  # no stretch for 8-bit
    rgba = RNG.integers(0, 256, (10, 12, 4), dtype=np.uint8)
    assert np.array_equal(to_rgb8(rgba), rgba[:, :, :3])
    assert kept_as_is(rgba[:, :, :3].copy()) and not kept_as_is(rgba) and not kept_as_is(grey[:, :, None])
    assert not kept_as_is(rgba[:, :, :3].copy(), nodata=0)


def test_degenerate_bands_and_bad_options():
    flat = np.full((10, 10), 7, dtype=np.uint16)
    assert not to_rgb8(flat).any()
    sparse = np.zeros((10, 10), dtype=np.uint16)
    sparse[0, 0] = 900  # 2nd and 98th percentiles are both 0: the step of the stretch's limit
    assert to_rgb8(sparse)[0, 0].tolist() == [255] * 3 and to_rgb8(sparse).sum() == 3 * 255
    assert not to_rgb8(np.full((4, 4), np.nan, np.float32)).any()
    with pytest.raises(ValueError, match="band 5 asked for, but the image has 4"):
        to_rgb8(np.zeros((4, 4, 4), np.uint16), bands=(5, 3, 2))
    for bad in ("4,3", "0,1,2", "a,b,c"):
        with pytest.raises(ValueError, match="bands"):
            ImageryOptions(bands=bad)
    with pytest.raises(ValueError, match="MIN < MAX"):
        ImageryOptions(value_range=(5, 1))
    assert ImageryOptions(bands="4,3,2").bands == (4, 3, 2)


def test_palette_tiffs_are_looked_up_not_shown_as_indices():
    indices = RNG.integers(0, 4, (6, 8), dtype=np.uint8)
    palette = [10, 20, 30, 200, 0, 0, 0, 200, 0, 0, 0, 200] + [0] * (768 - 12)
    img = Image.fromarray(indices, "P")
    img.putpalette(palette)
    buf = io.BytesIO()
    img.save(buf, "TIFF")
    arr, _ = read_array(buf.getvalue())
    colours = np.array(palette[:12], dtype=np.uint8).reshape(4, 3)
    assert np.array_equal(arr, colours[indices]) and kept_as_is(arr)


def test_read_array_refuses_what_it_cannot_decode(tmp_path):
    huge = tiff(np.zeros((1, 1), np.uint16))
    with pytest.raises(FormatError, match="not one image with bands"):
        read_array(tiff(np.zeros((2, 3, 8, 8), np.uint16)), name="stack.tif")
    with pytest.raises(FormatError, match="over the limit"):
        read_array(tiff(np.zeros((64, 64), np.uint16)), limit=100, name="big.tif")
    with pytest.raises(FormatError, match="cannot decode TIFF"):
        read_array(huge[:20], name="cut.tif")
    (tmp_path / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    with pytest.raises(FormatError, match="x.png"):
        read_array(tmp_path / "x.png")


def test_a_scene_taller_than_one_block_of_rows():
    scene = RNG.normal(1000, 300, (2600, 8)).astype(np.float32)  # scaled in blocks of 1024 rows
    scene[2500, 3] = np.nan
    assert np.array_equal(to_rgb8(scene, nodata=1000.0), expected(scene, (1, 1, 1), nodata=1000.0))
