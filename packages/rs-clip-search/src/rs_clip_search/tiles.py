"""Scenes to tiles: walk a folder of imagery, cut each scene into a grid of tiles, read a tile's pixels.

Decisions the issue leaves open:

* Scenes are files with a suffix in :data:`SUFFIXES`, found recursively in sorted order; hidden files and
  folders are skipped. GeoTIFFs (``.tif``/``.tiff``) are read with rasterio (windowed, so a large scene is
  never decoded whole); JPEG and PNG with PIL under :data:`rs_formats.pixel_limits.MAX_SOURCE_PIXELS`.
* The grid steps by ``tile - overlap``; where the last step would leave a strip narrower than a tile, the
  last tile is moved back to end at the scene's edge (every tile is full size and the whole scene is
  covered). A scene smaller than a tile along an axis is one tile of the scene's size along it.
* A tile of a georeferenced scene keeps the scene's CRS (as WKT-free ``EPSG:n`` where one exists, else
  WKT), its bounds in that CRS and its bounds in longitude/latitude (what the bbox filter and the footprint
  map use, so scenes in different CRSs share one map); a tile of an ungeoreferenced scene has none.
* Pixels become 8-bit RGB by the converter's imagery rule (:func:`rs_formats.rasters.to_rgb8`: 8-bit RGB
  as it is, anything else band-chosen, nodata masked and stretched), applied to each tile on its own as the
  converter applies it to each image on its own.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rs_formats import FormatError
from rs_formats.inputs import read_bytes
from rs_formats.pixel_limits import MAX_SOURCE_PIXELS, check_pixels, decode_image
from rs_formats.rasters import to_rgb8

SUFFIXES = (".tif", ".tiff", ".jpg", ".jpeg", ".png")
GEOTIFF = (".tif", ".tiff")


@dataclass(frozen=True)
class Scene:
    """One image file: what identifies its content (path, size, mtime) and, if georeferenced, where it is."""

    path: Path
    file_size: int
    mtime_ns: int
    width: int
    height: int
    crs: str | None = None
    transform: tuple[float, ...] | None = None  # affine (a, b, c, d, e, f) from pixel to CRS coordinates

    @property
    def key(self) -> tuple[str, int, int]:
        return (str(self.path), self.file_size, self.mtime_ns)


def find_scenes(folder: str | Path) -> Iterator[Path]:
    """Image files under ``folder`` (recursive, sorted, hidden entries skipped)."""
    root = Path(folder)
    if not root.is_dir():
        raise FormatError(root, "not a folder of imagery")
    for top, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and name.lower().endswith(SUFFIXES):
                yield Path(top, name).absolute()


def grid(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of the tiles along one axis of ``length`` pixels (see the module's decisions)."""
    if length <= tile:
        return [0]
    step = tile - overlap
    starts = list(range(0, length - tile + 1, step))
    if starts[-1] + tile < length:
        starts.append(length - tile)
    return starts


def windows(scene: Scene, tile: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """``(x, y, width, height)`` of every tile of ``scene``, row by row."""
    return [
        (x, y, min(tile, scene.width), min(tile, scene.height))
        for y in grid(scene.height, tile, overlap)
        for x in grid(scene.width, tile, overlap)
    ]


def open_scene(path: str | Path) -> Scene:
    """The scene's header: size, and CRS and transform of a georeferenced GeoTIFF."""
    path = Path(path)
    st = path.stat()
    if path.suffix.lower() in GEOTIFF:
        with _raster(path) as src:
            check_pixels((src.width, src.height), MAX_SOURCE_PIXELS, path)
            crs = _crs_name(src.crs) if src.crs else None
            transform = tuple(src.transform)[:6] if crs else None
            return Scene(path, st.st_size, st.st_mtime_ns, src.width, src.height, crs, transform)
    from rs_formats.pixel_limits import image_size

    w, h = image_size(path)
    return Scene(path, st.st_size, st.st_mtime_ns, w, h)


def read_tile(scene: Scene, window: tuple[int, int, int, int]) -> np.ndarray:
    """The tile's pixels as uint8 ``H x W x 3``."""
    x, y, w, h = window
    if scene.path.suffix.lower() in GEOTIFF:
        from rasterio.windows import Window

        with _raster(scene.path) as src:
            try:
                data = src.read(window=Window(x, y, w, h))
            except Exception as exc:  # noqa: BLE001 - GDAL's errors come in many classes
                raise FormatError(scene.path, f"cannot read pixels ({type(exc).__name__}: {exc})") from None
            return to_rgb8(np.moveaxis(data, 0, -1), nodata=src.nodata)
    img = decode_image(read_bytes(scene.path), limit=MAX_SOURCE_PIXELS, path=scene.path, mode=None)
    return to_rgb8(np.asarray(img.crop((x, y, x + w, y + h))))


def read_scene_tiles(scene: Scene, wins: list[tuple[int, int, int, int]]) -> Iterator[np.ndarray]:
    """The pixels of each window in turn (a JPEG or PNG is decoded once for all its tiles)."""
    if scene.path.suffix.lower() in GEOTIFF:
        for win in wins:
            yield read_tile(scene, win)
        return
    img = decode_image(read_bytes(scene.path), limit=MAX_SOURCE_PIXELS, path=scene.path, mode=None)
    for x, y, w, h in wins:
        yield to_rgb8(np.asarray(img.crop((x, y, x + w, y + h))))


def tile_bounds(scene: Scene, window: tuple[int, int, int, int]) -> dict[str, float | str | None]:
    """The tile's CRS, its bounds in that CRS and in longitude/latitude (all None when not georeferenced)."""
    none = dict.fromkeys(("crs", "minx", "miny", "maxx", "maxy", "west", "south", "east", "north"))
    if scene.transform is None:
        return none
    from rasterio.transform import Affine

    x, y, w, h = window
    t = Affine(*scene.transform)
    xs, ys = zip(*(t @ (px, py) for px in (x, x + w) for py in (y, y + h)))
    out = {**none, "crs": scene.crs, "minx": min(xs), "miny": min(ys), "maxx": max(xs), "maxy": max(ys)}
    try:
        from rasterio.crs import CRS
        from rasterio.warp import transform_bounds

        west, south, east, north = transform_bounds(
            CRS.from_user_input(scene.crs), "EPSG:4326", *(out["minx"], out["miny"], out["maxx"], out["maxy"])
        )
        out.update(west=west, south=south, east=east, north=north)
    except Exception:  # noqa: BLE001 - a local CRS without a path to WGS84 keeps its native bounds only
        pass
    return out


def _crs_name(crs) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_wkt()


def _raster(path: Path):
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioIOError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            return rasterio.open(path)
    except RasterioIOError as exc:
        raise FormatError(path, f"cannot open as a raster ({exc})") from None
