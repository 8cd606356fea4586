"""Queries over an index: by text, by an example image, by a tile of the archive, with filters.

Every function returns plain lists of dicts (what the JSON endpoints send). Decisions:

* A negative text ("harbour, not ships") moves the query away from it: ``q = normalise(t_pos - alpha *
  t_neg)`` with ``alpha`` = :data:`NEGATIVE_ALPHA` by default. Subtracting (rather than projecting the
  negative direction out) keeps what the two texts share partly in the query, so "harbour" still finds
  harbours when "ships" is close to it in the embedding space.
* "More like this" leaves the example tile itself out of its results.
* Filters: ``folder`` keeps tiles whose source file lies in that folder or below it (compared as paths,
  the file system is not consulted); ``bbox`` (west, south, east, north in degrees) keeps georeferenced
  tiles whose longitude/latitude bounds intersect it (a tile without bounds never passes a bbox).
* An uploaded example is decoded under :data:`rs_formats.pixel_limits.MAX_ROW_PIXELS` and embedded whole (the
  model's preprocessing resizes it).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any

import numpy as np

from rs_formats.pixel_limits import MAX_ROW_PIXELS, decode_image

from .encoder import Encoder
from .store import SearchIndex

NEGATIVE_ALPHA = 0.5
MAX_K = 1000


def normalise(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    if not np.isfinite(n) or n == 0:
        raise ValueError("the query has no direction (the negative text cancels the positive one)")
    return (v / n).astype(np.float32)


def text_vector(
    encoder: Encoder, text: str, negative: str | None = None, alpha: float = NEGATIVE_ALPHA
) -> np.ndarray:
    """The query vector of ``text``, moved away from ``negative`` when given (see the module's decisions)."""
    if not text.strip():
        raise ValueError("empty query text")
    texts = [text] + ([negative] if negative and negative.strip() else [])
    emb = np.asarray(encoder.texts(texts), dtype=np.float32)
    return normalise(emb[0] - alpha * emb[1]) if len(emb) > 1 else normalise(emb[0])


def image_vector(encoder: Encoder, data: bytes, *, limit: int = MAX_ROW_PIXELS) -> np.ndarray:
    """The query vector of an uploaded image (encoded bytes; refused above ``limit`` pixels)."""
    img = decode_image(data, limit=limit, path="<uploaded image>")
    return normalise(np.asarray(encoder.images([np.asarray(img)]), dtype=np.float32)[0])


def allowed_tiles(
    index: SearchIndex, folder: str | None = None, bbox: Sequence[float] | None = None
) -> np.ndarray | None:
    """Which tiles pass the filters (None: no filter)."""
    if folder is None and bbox is None:
        return None
    keep = np.ones(len(index), dtype=bool)
    if folder is not None:
        want = PurePosixPath(folder.rstrip("/") or "/")
        folders = index.tiles["folder"].to_pylist()
        keep &= np.array(
            [f == str(want) or PurePosixPath(f).is_relative_to(want) for f in folders], dtype=bool
        )
    if bbox is not None:
        west, south, east, north = check_bbox(bbox)
        col = {
            name: index.tiles[name].to_numpy(zero_copy_only=False)
            for name in ("west", "south", "east", "north")
        }
        with np.errstate(invalid="ignore"):
            keep &= (
                (col["west"] <= east)
                & (col["east"] >= west)
                & (col["south"] <= north)
                & (col["north"] >= south)
            )
    return keep


def check_bbox(bbox: Sequence[float]) -> tuple[float, float, float, float]:
    if len(bbox) != 4 or not all(np.isfinite(v) for v in bbox):
        raise ValueError("bbox must be four finite numbers: west, south, east, north")
    west, south, east, north = (float(v) for v in bbox)
    if west > east or south > north:
        raise ValueError("bbox must have west <= east and south <= north")
    return west, south, east, north


def tile_info(index: SearchIndex, tile_id: int) -> dict[str, Any]:
    """A tile's metadata: source path and folder, pixel window, CRS and bounds."""
    check_tile_id(index, tile_id)
    row = index.tiles.slice(tile_id, 1).to_pylist()[0]
    geo = row["crs"] is not None
    lonlat = [row[k] for k in ("west", "south", "east", "north")]
    return {
        "id": tile_id,
        "path": row["path"],
        "folder": row["folder"],
        "scene_size": [row["scene_width"], row["scene_height"]],
        "window": [row["x"], row["y"], row["width"], row["height"]],
        "crs": row["crs"],
        "bounds": [row[k] for k in ("minx", "miny", "maxx", "maxy")] if geo else None,
        "lonlat": lonlat if geo and lonlat[0] is not None else None,
    }


def check_tile_id(index: SearchIndex, tile_id: int) -> None:
    if not 0 <= tile_id < len(index):
        raise LookupError(f"no tile {tile_id} in this index (ids are 0 to {len(index) - 1})")


def search_vector(
    index: SearchIndex,
    q: np.ndarray,
    k: int = 10,
    *,
    folder: str | None = None,
    bbox: Sequence[float] | None = None,
    exclude: int | None = None,
) -> list[dict[str, Any]]:
    """Top ``k`` tiles for the query vector ``q``, best first, each :func:`tile_info` plus ``score``."""
    if not 1 <= k <= MAX_K:
        raise ValueError(f"k must be between 1 and {MAX_K}, got {k}")
    allowed = allowed_tiles(index, folder, bbox)
    if exclude is not None:
        allowed = np.ones(len(index), dtype=bool) if allowed is None else allowed.copy()
        allowed[exclude] = False
    hits = index.search(q, k, allowed)[0]
    return [{**tile_info(index, i), "score": round(s, 6)} for i, s in hits]


def search_text(
    index: SearchIndex,
    encoder: Encoder,
    text: str,
    k: int = 10,
    *,
    negative: str | None = None,
    alpha: float = NEGATIVE_ALPHA,
    folder: str | None = None,
    bbox: Sequence[float] | None = None,
) -> list[dict[str, Any]]:
    return search_vector(index, text_vector(encoder, text, negative, alpha), k, folder=folder, bbox=bbox)


def search_image(
    index: SearchIndex,
    encoder: Encoder,
    data: bytes,
    k: int = 10,
    *,
    folder: str | None = None,
    bbox: Sequence[float] | None = None,
) -> list[dict[str, Any]]:
    return search_vector(index, image_vector(encoder, data), k, folder=folder, bbox=bbox)


def more_like(
    index: SearchIndex,
    tile_id: int,
    k: int = 10,
    *,
    folder: str | None = None,
    bbox: Sequence[float] | None = None,
) -> list[dict[str, Any]]:
    """Tiles most like tile ``tile_id`` (itself left out); no model needed, its vector is in the index."""
    check_tile_id(index, tile_id)
    q = np.asarray(index.vectors[tile_id], dtype=np.float32)
    return search_vector(index, q, k, folder=folder, bbox=bbox, exclude=tile_id)
