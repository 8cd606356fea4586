import io
import json

import pytest
from conftest import grid_boxes, write_scene
from PIL import Image

from rs_annotate import BadInput, ConvertOptions
from rs_count.build import build
from rs_count.rules import BuildRules
from rs_formats import open_dataset, verify_dataset


def rows(path):
    return {r["image_id"]: r for r in open_dataset(path).iter_rows("test")}


def test_build_applies_the_selection_rules(dota_root, tmp_path):
    out = tmp_path / "ds"
    report = build(dota_root / "labelTxt", dota_root / "images", out, progress=False)
    verify_dataset(out)
    ds = open_dataset(out)
    assert ds.kind == "counting" and ds.splits == ["test"]
    got = rows(out)
    assert sorted(got) == [f"dota/P{n:04d}" for n in range(1, 12)]
    assert {i: (r["count"], r["count_label"]) for i, r in got.items()}["dota/P0003"] == (3, "ship")
    assert got["dota/P0011"]["count"] == 2 and got["dota/P0011"]["count_label"] == "plane"
    assert got["dota/P0002"]["captions"] == ["There are two tennis courts in the image."]
    assert got["dota/P0004"]["count_label"] == "harbor"
    assert got["dota/P0001"]["captions"] == ["There is one storage tank in the image."]
    # all objects are kept, in stored pixels, with natural names
    labels = [o["label"] for o in got["dota/P0011"]["objects"]]
    assert labels.count("plane") == 2 and labels.count("small vehicle") == 10
    meta = json.loads(got["dota/P0007"]["meta"])
    assert meta["imagesource"] == "GoogleEarth" and meta["gsd"] == 0.5
    assert report.rejected == {
        "no-counting-class": 1,
        "not-dominant": 1,
        "count-out-of-range": 1,
        "difficult": 1,
        "too-small": 1,
    }
    assert report.written == 11 and report.per_count[2] == 2 and report.missing_counts == []
    stats = ds.manifest["stats"]["rs_count"]
    assert stats["rules"]["min_share"] == 0.7 and stats["report"]["written"] == 11


def test_difficult_ignore_counts_only_clear_instances(dota_root, tmp_path):
    build(
        dota_root / "labelTxt",
        dota_root / "images",
        tmp_path / "ds",
        BuildRules(difficult="ignore"),
        progress=False,
    )
    r = rows(tmp_path / "ds")["dota/R0003"]
    assert r["count"] == 3 and sum(o["difficult"] for o in r["objects"]) == 1


def test_balanced_and_per_count(dota_root, tmp_path):
    rep = build(
        dota_root / "labelTxt",
        dota_root / "images",
        tmp_path / "b",
        BuildRules(balanced=True),
        progress=False,
    )
    assert rep.balanced_to == 1 and rep.per_count == {n: 1 for n in range(1, 11)}
    build(
        dota_root / "labelTxt",
        dota_root / "images",
        tmp_path / "b2",
        BuildRules(balanced=True),
        progress=False,
    )
    assert sorted(rows(tmp_path / "b")) == sorted(rows(tmp_path / "b2"))  # deterministic choice
    rep = build(
        dota_root / "labelTxt",
        dota_root / "images",
        tmp_path / "c",
        BuildRules(per_count=1, min_count=2, max_count=4),
        progress=False,
    )
    assert rep.per_count == {2: 1, 3: 1, 4: 1}


def test_classes_and_dominance_rules(dota_root, tmp_path):
    rep = build(
        dota_root / "labelTxt",
        dota_root / "images",
        tmp_path / "p",
        BuildRules(classes=("plane",)),
        progress=False,
    )
    assert set(r["count_label"] for r in rows(tmp_path / "p").values()) == {"plane"}
    assert rep.rejected["class-not-selected"] == 9  # incl. the tiny ship: class is checked first
    rep = build(
        dota_root / "labelTxt",
        dota_root / "images",
        tmp_path / "s",
        BuildRules(min_share=0.51),
        progress=False,
    )
    assert "dota/R0002" not in rows(tmp_path / "s")  # 2 planes vs 2 ships: a share of 0.5 is never a majority
    with pytest.raises(ValueError, match="min_share"):
        BuildRules(min_share=0.5)
    with pytest.raises(ValueError, match="not RemoteCount"):
        BuildRules(classes=("small vehicle",))


def test_center_square_crop_and_resize(tmp_path):
    root = tmp_path / "d"
    # 300 x 200: the centre square is x 50..250; one plane wholly outside it, one inside
    write_scene(root, "A", [("plane", 0, 80, 30, 110, 0), ("plane", 100, 80, 140, 120, 0)], size=(300, 200))
    write_scene(root, "B", [("plane", 40, 80, 70, 110, 0), ("plane", 100, 80, 140, 120, 0)], size=(300, 200))
    rep = build(
        root / "labelTxt", root / "images", tmp_path / "ds", BuildRules(short_side=100), progress=False
    )
    got = rows(tmp_path / "ds")
    assert list(got) == ["dota/A"] and rep.rejected == {"cut-by-crop": 1}
    r = got["dota/A"]
    assert r["count"] == 1 and (r["width"], r["height"]) == (100, 100)
    assert Image.open(io.BytesIO(r["image"])).size == (100, 100)
    (obj,) = r["objects"]
    assert (obj["x0"], obj["y0"], obj["x1"], obj["y1"]) == pytest.approx((25, 40, 45, 60))
    # without the crop both images are whole and B counts two planes
    build(
        root / "labelTxt",
        root / "images",
        tmp_path / "full",
        BuildRules(crop="none", short_side=100),
        progress=False,
    )
    full = rows(tmp_path / "full")
    assert full["dota/B"]["count"] == 2 and (full["dota/B"]["width"], full["dota/B"]["height"]) == (150, 100)


def test_bad_inputs_stop_the_build_or_are_counted(dota_root, tmp_path):
    write_scene(dota_root, "X0001", grid_boxes("unicorn", 2))
    write_scene(dota_root, "X0002", grid_boxes("plane", 2), image=False)
    (dota_root / "labelTxt" / "X0003.txt").write_text("1 2 3\n")
    (dota_root / "labelTxt" / "X0004.txt").write_text("1 1 9 1 9 9 1 9 plane 0\n")
    (dota_root / "images" / "X0004.png").write_bytes(b"not a png")
    labels, images = dota_root / "labelTxt", dota_root / "images"
    with pytest.raises(BadInput, match=r"X0001.txt:3: unknown class 'unicorn'"):
        build(labels, images, tmp_path / "ds", progress=False)
    assert not (tmp_path / "ds").exists() and not list(tmp_path.glob(".ds.tmp-*"))
    rep = build(labels, images, tmp_path / "ds", skip_bad=True, progress=False)
    assert rep.bad == {"unknown-class": 1, "missing-image": 1, "malformed": 1, "bad-image": 1}
    assert rep.written == 11 and any("X0002" in m for m in rep.bad_examples)
    # --other-classes makes a custom class legal (and it is not counted)
    rep = build(
        labels,
        images,
        tmp_path / "ds2",
        BuildRules(other_classes=("unicorn",)),
        skip_bad=True,
        progress=False,
    )
    assert (
        rep.bad == {"missing-image": 1, "malformed": 1, "bad-image": 1}
        and rep.rejected["no-counting-class"] == 2
    )


def test_nothing_selected_is_an_error(tmp_path):
    write_scene(tmp_path / "d", "A", grid_boxes("small-vehicle", 3))
    with pytest.raises(BadInput, match="no image passes the selection rules"):
        build(tmp_path / "d" / "labelTxt", tmp_path / "d" / "images", tmp_path / "ds", progress=False)
    assert not (tmp_path / "ds").exists()


def test_the_build_is_an_rs_annotate_conversion(dota_root, tmp_path):
    # the same rows in either worker count, and the conversion's report beside the dataset
    one = build(
        dota_root / "labelTxt",
        dota_root / "images",
        tmp_path / "one",
        progress=False,
        conversion=ConvertOptions(workers=1),
    )
    build(
        dota_root / "labelTxt",
        dota_root / "images",
        tmp_path / "two",
        progress=False,
        conversion=ConvertOptions(workers=2, chunksize=1),
    )
    assert list(rows(tmp_path / "one").items()) == list(rows(tmp_path / "two").items())
    converted = json.loads((tmp_path / "one.report.json").read_text())
    assert converted["rows"] == one.written == 11 and converted["reader"] == "remotecount"
    assert sum(sum(c.values()) for c in converted["counts"].values()) == 11
    assert open_dataset(tmp_path / "one").manifest["generator"].startswith("rs-count ")
    # an image whose header reads but whose pixels do not: found by the conversion, counted as a bad image
    png = dota_root / "images" / "P0001.png"
    png.write_bytes(png.read_bytes()[:120])
    rep = build(dota_root / "labelTxt", dota_root / "images", tmp_path / "cut", skip_bad=True, progress=False)
    assert rep.written == 10 and rep.bad == {"bad-image": 1} and "P0001.png" in rep.bad_examples[0]
