"""`show` draws a seeded sample spread over the sources of a (merged) dataset."""

from collections import Counter

import pytest
from PIL import Image

from rs_annotate import contact_sheet, convert, merge, show
from rs_annotate.cli import main
from rs_annotate.contact_sheet import _read_rows, pick_rows
from rs_formats import open_dataset


def test_pick_rows_round_robin_and_seeded():
    sources = ["a"] * 10 + ["b"] * 3 + ["c"] * 1
    picked = pick_rows(sources, 8, seed=0)
    assert len(picked) == len(set(picked)) == 8
    assert [sources[i] for i in picked] == ["a", "b", "c", "a", "b", "a", "b", "a"]
    assert pick_rows(sources, 8, seed=0) == picked
    assert pick_rows(sources, 8, seed=1) != picked
    assert sorted(pick_rows(sources, 100, seed=3)) == list(range(14))  # fewer rows than asked: all of them
    # another source's rows stay the same when a source is added
    more = sources + ["d"] * 4
    assert [i for i in pick_rows(more, 17, seed=0) if sources[i : i + 1] == ["c"]] == [
        i for i in picked if sources[i] == "c"
    ]


@pytest.fixture(scope="module")
def merged(dota_src, tmp_path_factory):
    from rs_synth.registry import FORMATS

    tmp = tmp_path_factory.mktemp("show")
    FORMATS["hrsc2016"].write(tmp / "hrsc_src", 6, seed=0, size=96)
    convert("dota", dota_src, tmp / "dota", workers=1, progress=False, split="train", short_side=64)
    convert("hrsc", tmp / "hrsc_src", tmp / "hrsc", workers=1, progress=False, split="train", short_side=64)
    merge([tmp / "dota", tmp / "hrsc"], tmp / "merged")  # dota's 8 rows come first
    return tmp / "merged"


def test_read_rows_returns_the_rows_asked_for_in_order(merged):
    ds = open_dataset(merged)
    ids = ds.read_table("train", columns=["image_id"]).column("image_id").to_pylist()
    rows = _read_rows(ds, "train", [9, 0, 5])
    assert [r["image_id"] for r in rows] == [ids[9], ids[0], ids[5]]


def test_show_spreads_over_sources(merged, tmp_path, monkeypatch):
    seen = []
    real = contact_sheet._read_rows
    monkeypatch.setattr(contact_sheet, "_read_rows", lambda *a: seen.append(real(*a)) or seen[-1])
    show(merged, tmp_path / "a.png", n=4, seed=0)
    assert Counter(r["source"] for r in seen[-1]) == {"dota": 2, "hrsc": 2}
    show(merged, tmp_path / "b.png", n=4, seed=0)
    assert [r["image_id"] for r in seen[-1]] == [r["image_id"] for r in seen[-2]]
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert main(["show", str(merged), "-n", "4", "--seed", "7", "--out", str(tmp_path / "c.png")]) == 0
    assert {r["source"] for r in seen[-1]} == {"dota", "hrsc"}
    assert Image.open(tmp_path / "c.png").size[0] > 400
