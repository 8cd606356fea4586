from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import rasterio
from rasterio.transform import from_origin

from rs_clip_search import GraphParams, SearchIndex, build_index, more_like, search_image, search_text
from rs_clip_search.queries import text_vector
from rs_clip_search.store import TILE_SCHEMA, write_index
from rs_formats import FormatError


class TableEncoder:
    """Texts to fixed vectors."""

    fingerprint = "test:table"

    def __init__(self, table):
        self.table = {k: np.asarray(v, dtype=np.float32) / np.linalg.norm(v) for k, v in table.items()}

    def texts(self, texts):
        return np.stack([self.table[t] for t in texts])


def _unit(*v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_negative_text_moves_the_query_away(tmp_path):
    vectors = np.stack([_unit(1, 0, 0), _unit(1, 1, 0), _unit(0, 0, 1)])
    tiles = pa.Table.from_pylist(
        [{"tile_id": i, "path": f"/a/{i}.png", "folder": "/a"} for i in range(3)], schema=TILE_SCHEMA
    )
    write_index(tmp_path / "idx", vectors, tiles, {}, GraphParams())
    ix = SearchIndex(tmp_path / "idx")
    enc = TableEncoder({"harbour": (1, 0.8, 0), "ships": (0, 1, 0)})
    assert [h["id"] for h in search_text(ix, enc, "harbour", 2)] == [1, 0]
    hits = search_text(ix, enc, "harbour", 2, negative="ships")
    assert [h["id"] for h in hits] == [0, 1]
    q = enc.table["harbour"] - 0.5 * enc.table["ships"]  # the documented rule, recomputed
    assert hits[0]["score"] == pytest.approx(float(vectors[0] @ (q / np.linalg.norm(q))), abs=1e-5)
    with pytest.raises(ValueError, match="no direction"):
        text_vector(TableEncoder({"a": (1, 0, 0)}), "a", "a", alpha=1.0)
    with pytest.raises(ValueError, match="empty"):
        text_vector(enc, "  ")


def test_text_image_and_more_like_this(tmp_path, archive, encoder):
    build_index(archive, encoder, tmp_path / "idx", tile=64)
    ix = SearchIndex(tmp_path / "idx")
    for ground, name in (("water", "water.png"), ("desert", "desert.jpg"), ("forest", "forest.png")):
        hits = search_text(ix, encoder, ground, k=12)
        assert {Path(h["path"]).name for h in hits} == {name}  # its 12 tiles, all of them first
        assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    data = (archive / "coast" / "desert.jpg").read_bytes()
    assert Path(search_image(ix, encoder, data, k=1)[0]["path"]).name == "desert.jpg"
    like = more_like(ix, 0, k=5)
    assert 0 not in [h["id"] for h in like] and len(like) == 5
    assert all(Path(h["path"]).name == Path(ix.tiles["path"][0].as_py()).name for h in like)
    with pytest.raises(FormatError, match="cannot decode"):
        search_image(ix, encoder, b"GIF89a nonsense", k=1)
    with pytest.raises(LookupError, match="no tile 999"):
        more_like(ix, 999)


def test_folder_filter(tmp_path, archive, encoder):
    build_index(archive, encoder, tmp_path / "idx", tile=64)
    ix = SearchIndex(tmp_path / "idx")
    hits = search_text(ix, encoder, "forest", k=5, folder=str(archive / "coast"))
    assert len(hits) == 5 and all(h["folder"] == str(archive / "coast") for h in hits)
    assert len(search_text(ix, encoder, "forest", k=100, folder=str(archive))) == 36
    assert search_text(ix, encoder, "forest", k=5, folder=str(archive / "coa")) == []  # a path, not a prefix


def test_bbox_filter_on_georeferenced_tiles(tmp_path, encoder):
    root = tmp_path / "geo"
    root.mkdir()
    rng = np.random.default_rng(0)
    for name, west in (("west.tif", 10.0), ("east.tif", 20.0)):
        with rasterio.open(
            root / name,
            "w",
            driver="GTiff",
            width=64,
            height=64,
            count=3,
            dtype="uint8",
            crs="EPSG:4326",
            transform=from_origin(west, 50.0, 0.01, 0.01),
        ) as dst:
            dst.write(rng.integers(0, 255, (3, 64, 64), dtype=np.uint8))
    write_scene_png = root / "plain.png"
    from PIL import Image

    Image.new("RGB", (64, 64), (10, 200, 10)).save(write_scene_png)
    build_index(root, encoder, tmp_path / "idx", tile=32)
    ix = SearchIndex(tmp_path / "idx")
    hits = search_text(ix, encoder, "water", k=50, bbox=(9.9, 49.0, 10.5, 50.1))
    assert len(hits) == 4 and all(Path(h["path"]).name == "west.tif" for h in hits)
    assert all(h["lonlat"][0] >= 9.99 and h["crs"] == "EPSG:4326" for h in hits)
    # tiles are 0.32 degrees wide: a bbox over the east scene's first column, then its top-left tile alone
    hits = search_text(ix, encoder, "water", k=50, bbox=(20.0, 49.0, 20.2, 50.0))
    assert sorted(tuple(h["window"][:2]) for h in hits) == [(0, 0), (0, 32)]
    hits = search_text(ix, encoder, "water", k=50, bbox=(20.1, 49.9, 20.2, 49.95))
    assert [(Path(h["path"]).name, h["window"][:2]) for h in hits] == [("east.tif", [0, 0])]
    with pytest.raises(ValueError, match="west <= east"):
        search_text(ix, encoder, "water", bbox=(5, 0, 1, 1))
    with pytest.raises(ValueError, match="k must be"):
        search_text(ix, encoder, "water", k=0)
