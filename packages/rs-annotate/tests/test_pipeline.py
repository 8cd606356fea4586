import io
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rs_annotate import convert
from rs_annotate.readers.dota import DotaReader
from rs_annotate.report import report_path
from rs_annotate.source_images import boxes_in_window, check_boxes, target_size, tile_windows
from rs_annotate.types import BadInput, Box
from rs_formats import open_dataset, verify_dataset


def rows(path, split="train"):
    return open_dataset(path).read_table(split).to_pylist()


def all_rows(path):
    ds = open_dataset(path)
    return {s: ds.read_table(s).to_pylist() for s in ds.splits}


def test_one_and_two_workers_give_identical_rows(dota_src, tmp_path):
    a = convert("dota", dota_src, tmp_path / "a", workers=1, seed=5, progress=False)
    b = convert("dota", dota_src, tmp_path / "b", workers=2, chunksize=1, seed=5, progress=False)
    ra, rb = all_rows(tmp_path / "a"), all_rows(tmp_path / "b")
    assert ra == rb
    assert sum(len(v) for v in ra.values()) == a.rows == b.rows == 8
    # a different seed changes some captions but nothing else
    convert("dota", dota_src, tmp_path / "c", workers=1, seed=6, progress=False)
    rc = all_rows(tmp_path / "c")
    strip = [{k: v for k, v in r.items() if k != "captions"} for s in ra for r in ra[s]]
    assert strip == [{k: v for k, v in r.items() if k != "captions"} for s in rc for r in rc[s]]
    assert [r["captions"] for s in ra for r in ra[s]] != [r["captions"] for s in rc for r in rc[s]]
    verify_dataset(tmp_path / "a")


def test_rows_follow_the_contract(dota_src, tmp_path):
    convert("dota", dota_src, tmp_path / "ds", workers=1, short_side=160, progress=False)
    ds = open_dataset(tmp_path / "ds")
    assert ds.kind == "captions"
    assert ds.manifest["generator"].startswith("rs-annotate ")
    assert ds.manifest["sources"][0]["name"] == "dota"
    for row in (r for s in ds.splits for r in ds.read_table(s).to_pylist()):
        img = Image.open(io.BytesIO(row["image"]))
        assert img.format == "JPEG" and img.size == (row["width"], row["height"]) == (160, 160)
        assert len(row["captions"]) == 5 and row["objects"]
        meta = json.loads(row["meta"])
        assert meta["original_size"] == [320, 320] and meta["file"].startswith("labelTxt/")
        for o in row["objects"]:
            assert 0 <= o["x0"] < o["x1"] <= 160 and 0 <= o["y0"] < o["y1"] <= 160
            assert " " in o["label"] or "-" not in o["label"]
        assert 0 <= row["phash"] < 2**64
    # boxes are scaled with the image: compare with the label file
    first = ds.read_table(ds.splits[0]).to_pylist()[0]
    stem = first["image_id"].split("/")[1]
    line = (dota_src / "labelTxt" / f"{stem}.txt").read_text().splitlines()[2].split()
    xs = [float(v) for v in line[0:8:2]]
    assert first["objects"][0]["x0"] == pytest.approx(max(0, min(xs)) * 0.5)
    report = json.loads(report_path(tmp_path / "ds").read_text())
    assert report["rows"] == 8 and report["n_bad"] == 0


def test_keep_original_stores_the_file_bytes(dota_src, tmp_path):
    convert("dota", dota_src, tmp_path / "orig", workers=1, keep_original=True, progress=False)
    for row in (r for rs in all_rows(tmp_path / "orig").values() for r in rs):
        stem = row["image_id"].split("/")[1]
        assert row["image"] == (dota_src / "images" / f"{stem}.png").read_bytes()
        assert (row["width"], row["height"]) == (320, 320)


def test_tiling_cuts_scenes_and_clips_boxes(dota_src, tmp_path):
    rep = convert(
        "dota",
        dota_src,
        tmp_path / "tiles",
        workers=1,
        tile=200,
        tile_overlap=40,
        short_side=None,
        progress=False,
        keep_empty=True,
    )
    got = [r for rs in all_rows(tmp_path / "tiles").values() for r in rs]
    assert len(got) == 8 * 4  # 320 px with 200 px windows, step 160: x in (0, 120), y in (0, 120)
    assert {json.loads(r["meta"])["tile"][0] for r in got} == {0, 120}
    assert all(r["width"] == r["height"] == 200 for r in got)
    assert all(0 <= o["x0"] < o["x1"] <= 200 for r in got for o in r["objects"])
    assert rep.rows == 32


def make_broken_copy(src, dst):
    shutil.copytree(src, dst)
    images = sorted((dst / "images").iterdir())
    data = images[1].read_bytes()
    images[1].write_bytes(data[: len(data) // 3])  # truncated PNG
    labels = sorted((dst / "labelTxt").iterdir())
    text = labels[4].read_text()
    labels[4].write_text(text + "10 10 20 10 20 20 plane\n")  # too few fields
    return images[1], labels[4]


def test_bad_input_aborts_and_leaves_no_dataset(dota_src, tmp_path):
    broken_img, broken_label = make_broken_copy(dota_src, tmp_path / "src")
    out = tmp_path / "out"
    with pytest.raises(BadInput) as err:
        convert("dota", tmp_path / "src", out, workers=2, progress=False)
    assert str(broken_img) in str(err.value) and "cannot decode image" in str(err.value)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["src"]  # no staging dir, no report


def test_skip_bad_counts_and_lists(dota_src, tmp_path):
    broken_img, broken_label = make_broken_copy(dota_src, tmp_path / "src")
    rep = convert("dota", tmp_path / "src", tmp_path / "out", workers=2, skip_bad=True, progress=False)
    assert rep.rows == 6 and rep.n_bad == 2
    assert [b["file"] for b in rep.bad] == [str(broken_img), str(broken_label)]
    assert rep.bad[1]["line"] is not None and "field" in rep.bad[1]["error"]
    saved = json.loads(report_path(tmp_path / "out").read_text())
    assert saved["n_bad"] == 2 and saved["bad"] == rep.bad
    assert sum(len(v) for v in all_rows(tmp_path / "out").values()) == 6


def test_empty_images_are_skipped_and_counted(dota_src, tmp_path):
    shutil.copytree(dota_src, tmp_path / "src")
    label = sorted((tmp_path / "src" / "labelTxt").iterdir())[0]
    label.write_text("imagesource:GoogleEarth\r\ngsd:0.5\r\n")
    rep = convert("dota", tmp_path / "src", tmp_path / "out", workers=1, progress=False)
    assert rep.rows == 7 and rep.empty == [f"dota/{label.stem}"]
    rep = convert("dota", tmp_path / "src", tmp_path / "kept", workers=1, keep_empty=True, progress=False)
    kept = [
        r for rs in all_rows(tmp_path / "kept").values() for r in rs if r["image_id"] == f"dota/{label.stem}"
    ]
    assert kept[0]["objects"] == [] and len(set(kept[0]["captions"])) == 1


def test_existing_output_is_refused(dota_src, tmp_path):
    (tmp_path / "out").mkdir()
    with pytest.raises(FileExistsError):
        convert("dota", dota_src, tmp_path / "out", workers=1, progress=False)


def test_box_rules():
    boxes = [Box("a", -3, 5, 10, 12), Box("b", 5, 5, 5, 9)]
    with pytest.raises(BadInput, match=r"f\.txt: box 2 \(b 5,5,5,9\) has zero area"):
        check_boxes(boxes, 100, 50, "f.txt")
    with pytest.raises(BadInput, match="wholly outside the 100x50 image"):
        check_boxes([Box("c", 10, 50, 20, 60)], 100, 50, "f.txt")
    got = check_boxes(boxes + [Box("c", 90, 40, 120, 70)], 100, 50, "f.txt", drop_bad=True)
    assert got.dropped == 1 and got.clipped == 2
    assert [(b.x0, b.y0, b.x1, b.y1) for b in got.boxes] == [(0, 5, 10, 12), (90, 40, 100, 50)]


def test_tiles_and_resizing_geometry():
    assert tile_windows(1000, 500, 400, 100) == [
        (0, 0, 400, 400),
        (300, 0, 400, 400),
        (600, 0, 400, 400),
        (0, 100, 400, 400),
        (300, 100, 400, 400),
        (600, 100, 400, 400),
    ]
    assert tile_windows(300, 200, 400, 100) == [(0, 0, 300, 200)]
    with pytest.raises(ValueError):
        tile_windows(10, 10, 100, 100)
    win = (100, 100, 100, 100)
    inside = boxes_in_window([Box("a", 90, 120, 130, 140), Box("b", 40, 120, 110, 140)], win, 0.5)
    assert [(b.label, b.x0, b.y0, b.x1, b.y1) for b in inside] == [("a", 0, 20, 30, 40)]
    assert target_size(4000, 3000, 256) == (341, 256)
    assert target_size(200, 100, 256) == (200, 100)
    assert target_size(300, 600, 256) == (256, 512)


def test_corrupt_image_bytes_are_bad_input_not_a_pil_traceback(tmp_path):
    from rs_annotate.source_images import load_image

    p = tmp_path / "x.jpg"
    p.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(BadInput, match=r"x\.jpg: cannot decode image"):
        load_image(p)
    with pytest.raises(BadInput, match="missing.png: cannot read: No such file"):
        load_image(tmp_path / "missing.png")
    arr = load_image(None, np.zeros((4, 5, 3), np.uint8))
    assert arr.size == (5, 4)


def test_real_dota_sample_with_missing_images(shared_data, tmp_path):
    src = shared_data / "dota"
    rep = convert("dota", src, tmp_path / "real", workers=1, skip_bad=True, progress=False)
    assert rep.rows == 2 and rep.n_bad == 3  # three label files whose images are absent upstream
    assert all("has no image" in b["error"] for b in rep.bad)
    by_id = {r["image_id"]: r for rs in all_rows(tmp_path / "real").values() for r in rs}
    big = by_id["dota/P0706"]
    assert (big["width"], big["height"]) == (256, round(1182 * 256 / 1111))
    n_lines = sum(1 for line in (src / "labelTxt" / "P0706.txt").read_text().splitlines()[2:] if line.strip())
    assert len(big["objects"]) == n_lines and len(big["captions"]) == 5


def test_classification_and_human_caption_sources(tmp_path):
    from rs_synth.registry import FORMATS

    FORMATS["imagefolder"].write(tmp_path / "folders", 6, seed=0, size=64)
    rep = convert("imagefolder", tmp_path / "folders", tmp_path / "cls", workers=1, progress=False)
    ds = open_dataset(tmp_path / "cls")
    assert ds.kind == "classification" and ds.class_names and rep.rows > 0
    for r in (r for s in ds.splits for r in ds.read_table(s).to_pylist()):
        assert 0 <= r["label"] < len(ds.class_names) and r["captions"] is None

    FORMATS["rsicd"].write(tmp_path / "rsicd", 6, seed=0, size=64)
    convert("ret3", tmp_path / "rsicd", tmp_path / "caps", workers=1, progress=False)
    doc = json.loads((tmp_path / "rsicd" / "dataset_rsicd.json").read_text())
    human = {Path(img["filename"]).stem: [s["raw"] for s in img["sentences"]] for img in doc["images"]}
    got = [r for rs in all_rows(tmp_path / "caps").values() for r in rs]
    assert len(got) == len(human)
    for r in got:  # kept as written (the reader only normalises whitespace), never B2C
        stem = r["image_id"].rsplit("/", 1)[-1]
        assert ["".join(c.split()) for c in r["captions"]] == ["".join(c.split()) for c in human[stem]][:5]


class DyingReader(DotaReader):
    """DOTA, except that reading the third item kills the worker process (as the OOM killer would)."""

    def read(self, item):
        if item[0].endswith("2"):
            os._exit(9)
        return super().read(item)


def test_a_killed_worker_is_a_clear_error_and_leaves_nothing(dota_src, tmp_path, monkeypatch):
    from rs_annotate import WorkerDied
    from rs_annotate.readers import base

    monkeypatch.setitem(base.READERS, "dying", DyingReader)
    with pytest.raises(WorkerDied, match="worker process died"):
        convert("dying", dota_src, tmp_path / "out", workers=2, chunksize=1, progress=False)
    assert list(tmp_path.iterdir()) == []
