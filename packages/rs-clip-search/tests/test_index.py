from __future__ import annotations

import json
import os

import numpy as np
import pyarrow as pa
import pytest
from conftest import write_scene

from rs_clip_search import GraphParams, SearchIndex, add_to_index, build_index
from rs_clip_search.store import TILE_SCHEMA, exact_search, write_index
from rs_formats import FormatError


def _clustered(n, dim, seed=0, clusters=20):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    v = centres[rng.integers(0, clusters, n)] + 0.3 * rng.normal(size=(n, dim))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def _tiles(n):
    return pa.Table.from_pylist(
        [
            {"tile_id": i, "path": f"/a/{i}.png", "folder": "/a", "x": 0, "y": 0, "width": 8, "height": 8}
            for i in range(n)
        ],
        schema=TILE_SCHEMA,
    )


def test_exact_search_matches_brute_force_numpy():
    v = _clustered(500, 32)
    q = _clustered(5, 32, seed=1)
    for qi in q:
        hits = exact_search(v, qi, 10)
        scores = v @ qi
        order = np.lexsort((np.arange(len(v)), -scores))[:10]
        assert [i for i, _ in hits] == order.tolist()
        np.testing.assert_allclose([s for _, s in hits], scores[order], atol=1e-5)
    allowed = np.zeros(len(v), dtype=bool)
    allowed[::7] = True
    hits = exact_search(v, q[0], 10, allowed)
    assert all(i % 7 == 0 for i, _ in hits)
    assert [i for i, _ in hits] == [
        int(i) for i in np.flatnonzero(allowed)[np.argsort(-(v[allowed] @ q[0]), kind="stable")[:10]]
    ]


def test_flat_below_the_threshold_and_hnsw_above_agree(tmp_path):
    v, q = _clustered(3000, 64), _clustered(50, 64, seed=2)
    write_index(tmp_path / "flat", v, _tiles(3000), {}, GraphParams())
    write_index(tmp_path / "hnsw", v, _tiles(3000), {}, GraphParams(exact_below=1000))
    flat, hnsw = SearchIndex(tmp_path / "flat"), SearchIndex(tmp_path / "hnsw")
    assert (flat.manifest["kind"], hnsw.manifest["kind"]) == ("flat", "hnsw")
    assert flat.graph is None and hnsw.graph is not None and (tmp_path / "hnsw" / "graph.usearch").is_file()
    exact, approx = flat.search(q, 10), hnsw.search(q, 10)
    recall = np.mean([len({i for i, _ in a} & {i for i, _ in e}) / 10 for a, e in zip(approx, exact)])
    assert recall >= 0.95
    for a, e in zip(approx, exact):  # same scores for the tiles both found
        common = dict(e)
        assert all(abs(s - common[i]) < 1e-4 for i, s in a if i in common)
    # a filter that few tiles pass still finds k of them through the graph
    allowed = np.zeros(3000, dtype=bool)
    allowed[:40] = True
    got = hnsw.search(q[:3], 10, allowed)
    assert got == flat.search(q[:3], 10, allowed)


def test_index_folder_manifest_and_bad_folders(tmp_path, archive, encoder):
    m = build_index(archive, encoder, tmp_path / "idx", tile=64)
    assert (m["format"], m["format_version"], m["generation"], m["scenes"]) == ("rs-search-index", 1, 1, 3)
    assert sorted(os.listdir(tmp_path / "idx")) == ["manifest.json", "tiles.parquet", "vectors.npy"]
    ix = SearchIndex(tmp_path / "idx")
    assert len(ix) == m["count"] == 3 * 4 * 3 and ix.tiles["tile_id"].to_pylist() == list(range(len(ix)))
    np.testing.assert_allclose(np.linalg.norm(ix.vectors, axis=1), 1, atol=1e-5)
    with pytest.raises(FileExistsError):
        build_index(archive, encoder, tmp_path / "idx", tile=64)
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    (tmp_path / "idx" / "manifest.json").write_text(json.dumps({**manifest, "format_version": 9}))
    with pytest.raises(FormatError, match="format_version 9"):
        SearchIndex(tmp_path / "idx")
    (tmp_path / "idx" / "manifest.json").write_text(json.dumps({**manifest, "count": 5}))
    with pytest.raises(FormatError, match="manifest says 5 tiles"):
        SearchIndex(tmp_path / "idx")
    with pytest.raises(ValueError, match="--overlap"):
        build_index(archive, encoder, tmp_path / "idx2", tile=64, overlap=64)


def test_unreadable_files_are_skipped_and_counted(tmp_path, archive, encoder, caplog):
    (archive / "coast" / "broken.png").write_bytes(b"not a png")
    m = build_index(archive, encoder, tmp_path / "idx", tile=64)
    assert (m["scenes"], m["skipped"]) == (3, 1)
    assert "broken.png: skipped" in caplog.text


@pytest.mark.parametrize("exact_below", [100_000, 1])
def test_add_embeds_only_new_scenes_and_keeps_ids(tmp_path, archive, encoder, exact_below):
    build_index(archive, encoder, tmp_path / "idx", tile=64, params=GraphParams(exact_below=exact_below))
    before = SearchIndex(tmp_path / "idx")
    old_vectors, old_tiles, calls = np.array(before.vectors), before.tiles, encoder.calls
    write_scene(archive / "new" / "grass.png", "grass", seed=9)
    os.utime(archive / "coast" / "water.png", ns=(1, 1))  # changed since indexed: reported, kept
    m, added = add_to_index(tmp_path / "idx", archive, encoder)
    assert added == {"scenes": 1, "skipped": 0, "changed": 1, "tiles": 12}
    assert encoder.calls - calls == 12  # only the new scene's tiles were embedded
    after = SearchIndex(tmp_path / "idx")
    assert m["generation"] == 2 and len(after) == len(old_tiles) + 12
    np.testing.assert_array_equal(after.vectors[: len(old_tiles)], old_vectors)
    assert after.tiles.slice(0, len(old_tiles)).equals(old_tiles)
    hit = after.search(after.vectors[-1], 1)[0][0]
    assert hit[0] >= len(old_tiles)  # the new tiles are searchable (through the extended graph, too)
    _, again = add_to_index(tmp_path / "idx", archive, encoder)
    assert again["tiles"] == 0


def test_add_refuses_another_model(tmp_path, archive, encoder):
    build_index(archive, encoder, tmp_path / "idx", tile=64)
    encoder.fingerprint = "other"
    with pytest.raises(FormatError, match="add with that model"):
        add_to_index(tmp_path / "idx", archive, encoder)


def test_the_imagery_is_never_at_risk(tmp_path, archive, encoder):
    before = sorted(p.name for p in archive.rglob("*"))
    for out in (archive, archive / "idx", tmp_path):  # the folder, inside it, around it
        with pytest.raises(FormatError, match="--out"):
            build_index(archive, encoder, out, tile=64, overwrite=True)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "mine.txt").write_text("a user's file")
    with pytest.raises(FormatError, match="holds files no rs-clip tool wrote"):
        build_index(archive, encoder, tmp_path / "notes", tile=64, overwrite=True)
    assert (tmp_path / "notes" / "mine.txt").read_text() == "a user's file"
    build_index(archive, encoder, tmp_path / "idx", tile=64)
    m = build_index(
        archive, encoder, tmp_path / "idx", tile=64, overwrite=True
    )  # an index is ours to replace
    assert m["generation"] == 1 and sorted(p.name for p in archive.rglob("*")) == before
