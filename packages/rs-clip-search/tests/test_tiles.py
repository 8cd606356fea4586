from __future__ import annotations

import numpy as np
import pytest
import rasterio
from conftest import write_scene
from rasterio.transform import from_origin
from rasterio.warp import transform as warp_points

from rs_clip_search.tiles import find_scenes, grid, open_scene, read_tile, tile_bounds, windows
from rs_formats import FormatError


@pytest.mark.parametrize("length", [1, 50, 224, 225, 447, 448, 1000])
@pytest.mark.parametrize("tile,overlap", [(224, 0), (224, 32), (100, 99)])
def test_grid_covers_every_pixel_with_full_tiles(length, tile, overlap):
    starts = grid(length, tile, overlap)
    covered = np.zeros(length, dtype=int)
    for s in starts:
        covered[s : s + tile] += 1
        assert s >= 0 and min(s + tile, length) - s == min(tile, length)
    assert covered.min() >= 1
    assert starts == sorted(set(starts))
    steps = np.diff(starts)
    assert (steps <= tile - overlap).all()  # neighbours share at least the overlap


def test_windows_of_a_scene_and_pixels_match_the_file(tmp_path):
    path = write_scene(tmp_path / "s.png", "grass", size=(300, 200))
    scene = open_scene(path)
    assert (scene.width, scene.height, scene.crs) == (300, 200, None)
    wins = windows(scene, 128, 0)
    assert wins == [(x, y, 128, 128) for y in (0, 72) for x in (0, 128, 172)]
    from PIL import Image

    full = np.asarray(Image.open(path).convert("RGB"))
    x, y, w, h = wins[4]
    np.testing.assert_array_equal(read_tile(scene, wins[4]), full[y : y + h, x : x + w])


def test_find_scenes_is_sorted_recursive_and_skips_hidden_and_other_files(tmp_path):
    for name in ("b/2.png", "a/1.jpg", "a/.hidden.png", ".cache/x.png", "notes.txt", "c.TIF"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    assert [p.relative_to(tmp_path).as_posix() for p in find_scenes(tmp_path)] == [
        "c.TIF",
        "a/1.jpg",
        "b/2.png",
    ]
    with pytest.raises(FormatError, match="not a folder"):
        list(find_scenes(tmp_path / "missing"))


def _geotiff(path, data, crs, transform, nodata=None):
    count, h, w = data.shape
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=w,
        height=h,
        count=count,
        dtype=data.dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as dst:
        dst.write(data)
    return path


def test_georeferenced_tile_bounds_in_its_crs_and_in_lonlat(tmp_path):
    # UTM zone 33N, 10 m pixels, upper-left corner at (500000, 4650000)
    data = np.random.default_rng(0).integers(0, 255, (3, 100, 150), dtype=np.uint8)
    path = _geotiff(tmp_path / "utm.tif", data, "EPSG:32633", from_origin(500000, 4650000, 10, 10))
    scene = open_scene(path)
    assert scene.crs == "EPSG:32633"
    b = tile_bounds(scene, (64, 32, 64, 64))
    assert (b["minx"], b["maxx"]) == (500000 + 640, 500000 + 1280)
    assert (b["miny"], b["maxy"]) == (4650000 - 960, 4650000 - 320)
    # an independent oracle: the corner points reprojected one by one
    lons, lats = warp_points("EPSG:32633", "EPSG:4326", [b["minx"], b["maxx"]], [b["miny"], b["maxy"]])
    assert b["west"] == pytest.approx(min(lons), abs=1e-4) and b["north"] == pytest.approx(
        max(lats), abs=1e-4
    )
    assert 14.9 < b["west"] < b["east"] < 15.1 and 41.9 < b["south"] < b["north"] < 42.1
    np.testing.assert_array_equal(
        read_tile(scene, (64, 32, 64, 64)), np.moveaxis(data[:, 32:96, 64:128], 0, -1)
    )


def test_ungeoreferenced_tiff_has_no_bounds(tmp_path):
    data = np.zeros((3, 20, 20), dtype=np.uint8)
    with rasterio.open(
        tmp_path / "plain.tif", "w", driver="GTiff", width=20, height=20, count=3, dtype="uint8"
    ) as d:
        d.write(data)
    scene = open_scene(tmp_path / "plain.tif")
    assert scene.crs is None and tile_bounds(scene, (0, 0, 20, 20))["west"] is None


def test_sixteen_bit_single_band_is_stretched_to_grey_rgb(tmp_path):
    data = np.arange(400, dtype=np.uint16).reshape(1, 20, 20) * 100
    data[0, 0, 0] = 0  # nodata
    path = _geotiff(tmp_path / "dem.tif", data, "EPSG:4326", from_origin(10, 50, 0.01, 0.01), nodata=0)
    px = read_tile(open_scene(path), (0, 0, 20, 20))
    assert px.dtype == np.uint8 and px.shape == (20, 20, 3)
    assert (px[..., 0] == px[..., 2]).all()
    assert px[0, 1, 0] == 0 and px[19, 19, 0] == 255  # valid minimum and maximum
