"""Every detection writer's files parse back, with small parsers written here from the format specs and,
where a real sample exists, checked against that sample first."""

import json
import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from rs_synth.classes import DIOR, DOTA_V1, HRRSD, REMOTECOUNT, RSOD


def parse_dota(path):
    raw = path.read_bytes()
    lines = raw.decode("ascii").split("\r\n")
    assert lines[-1] == "" and "\n" not in raw.decode().replace("\r\n", ""), f"{path}: not CRLF"
    lines = lines[:-1]
    header = {}
    while lines and ":" in lines[0]:
        k, v = lines.pop(0).split(":", 1)
        header[k] = v
    objs = []
    for line in lines:
        f = line.split(" ")
        assert len(f) == 10, line
        objs.append((np.array(f[:8], dtype=float).reshape(4, 2), f[8], int(f[9])))
    return header, objs


def test_dota_parser_reads_the_real_sample(shared_data):
    header, objs = parse_dota(shared_data / "dota/labelTxt/P1888.txt")
    assert header["imagesource"] == "GoogleEarth" and float(header["gsd"]) > 0
    assert {c for _, c, _ in objs} <= set(DOTA_V1.values())


def _close_poly(a, b, tol=1.0):
    return np.abs(np.asarray(a) - np.asarray(b)).max() <= tol


def test_dota_labels_match_truth(generated):
    out, truth = generated("dota", n=8)
    assert truth.images
    for im in truth.images:
        header, objs = parse_dota(out / im.labels[0])
        assert set(header) == {"imagesource", "gsd"}
        float(header["gsd"])
        assert Image.open(out / im.image).size == (im.width, im.height)
        assert len(objs) == len(im.objects)
        for (poly, label, diff), t in zip(objs, im.objects):
            assert label == DOTA_V1[t.cls] == t.label and diff == t.difficult
            assert _close_poly(poly, t.poly)
            assert (
                (poly >= -0.5).all()
                and (poly[:, 0] <= im.width + 0.5).all()
                and (poly[:, 1] <= im.height + 0.5).all()
            )
            # Polygon corners clockwise on screen (positive shoelace area with y down).
            x, y = poly[:, 0], poly[:, 1]
            assert 0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) > 0
            # The axis-aligned truth box lies inside the oriented box's bounds.
            x0, y0, x1, y1 = t.box
            assert poly[:, 0].min() - 1 <= x0 and x1 <= poly[:, 0].max() + 1
            assert poly[:, 1].min() - 1 <= y0 and y1 <= poly[:, 1].max() + 1


def test_counting_labels_match_counts_and_are_balanced(generated):
    out, truth = generated("counting", n=40)
    counts = {}
    for im in truth.images:
        _, objs = parse_dota(out / im.labels[0])
        assert len(objs) == im.meta["count"] == len(im.objects)
        assert {c for _, c, _ in objs} == {DOTA_V1[im.meta["count_class"]]}
        assert all(d == 0 for _, _, d in objs)
        # Every oriented box, as written (whole pixels), lies inside the image: nothing for a reader to clip.
        corners = np.array([q for q, _, _ in objs], dtype=float).reshape(-1, 2)
        assert (corners >= 0).all() and (corners <= [im.width, im.height]).all(), im.image
        counts[im.meta["count"]] = counts.get(im.meta["count"], 0) + 1
    assert counts == {k: 4 for k in range(1, 11)}
    assert {im.meta["count_class"] for im in truth.images} == set(REMOTECOUNT[:4])


def voc_objects(path):
    root = ET.parse(path).getroot()
    size = root.find("size")
    wh = int(size.findtext("width")), int(size.findtext("height"))
    objs = []
    for o in root.findall("object"):
        b = o.find("bndbox")
        objs.append((o.findtext("name"), [int(b.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")]))
    return root, wh, objs


def test_voc_parser_reads_the_real_hrrsd_sample(shared_data):
    root, wh, objs = voc_objects(shared_data / "hrrsd/OPT2017/Annotations/00002.xml")
    assert wh == (1627, 2101) and objs and all(n == "airplane" for n, _ in objs)
    assert root.find("owner").findtext("name") == "snail_crowling"  # the trap our HRRSD files reproduce


@pytest.mark.parametrize("name,table", [("dior", DIOR), ("hrrsd", HRRSD), ("rsod", RSOD)])
def test_voc_family_parses_back(generated, name, table):
    out, truth = generated(name, n=8)
    assert (out / ("OPT2017/ImageSets/Main/train.txt" if name == "hrrsd" else "")).exists()
    n_obj = 0
    for im in truth.images:
        root, wh, objs = voc_objects(out / im.labels[0])
        assert wh == (im.width, im.height) == Image.open(out / im.image).size
        assert root.findtext("filename") == im.image.rsplit("/", 1)[1]
        assert [n for n, _ in objs] == [table[t.cls] for t in im.objects]
        for (_, box), t in zip(objs, im.objects):
            assert np.abs(np.array(box) - np.array(t.box)).max() <= 1.0
            assert 0 <= box[0] < box[2] <= im.width and 0 <= box[1] < box[3] <= im.height
        n_obj += len(objs)
    assert n_obj > 0
    if name == "dior":
        listed = {
            x for s in ("train", "val", "test") for x in (out / f"ImageSets/Main/{s}.txt").read_text().split()
        }
        assert listed == {im.image.rsplit("/", 1)[1][:-4] for im in truth.images}
        assert all(("JPEGImages-test" in im.image) == (im.split == "test") for im in truth.images)


def test_hrsc_xml_has_the_real_structure_and_rotated_boxes(generated, shared_data):
    real = ET.parse(shared_data / "hrsc/FullDataSet/Annotations/100000006.xml").getroot()
    out, truth = generated("hrsc2016", n=6)
    assert sum(len(im.objects) for im in truth.images) > 0
    for im in truth.images:
        root = ET.parse(out / im.labels[0]).getroot()
        assert [e.tag for e in root] == [e.tag for e in real]
        assert (int(root.findtext("Img_SizeWidth")), int(root.findtext("Img_SizeHeight"))) == (
            im.width,
            im.height,
        )
        objs = root.find("HRSC_Objects").findall("HRSC_Object")
        real_obj = real.find("HRSC_Objects").find("HRSC_Object")
        assert len(objs) == len(im.objects)
        for o, t in zip(objs, im.objects):
            assert [e.tag for e in o] == [e.tag for e in real_obj]
            assert o.findtext("Class_ID") == t.label
            box = [int(o.findtext(k)) for k in ("box_xmin", "box_ymin", "box_xmax", "box_ymax")]
            assert np.abs(np.array(box) - np.array(t.box)).max() <= 1
            cx, cy, w, h, a = (float(o.findtext(f"mbox_{k}")) for k in ("cx", "cy", "w", "h", "ang"))
            assert -math.pi / 2 <= a < math.pi / 2 and w > h > 0
            # Rebuild the rotated box's corners and compare with the truth polygon's bounds.
            c, s = math.cos(a), math.sin(a)
            xs = [cx + dx * w / 2 * c - dy * h / 2 * s for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
            ys = [cy + dx * w / 2 * s + dy * h / 2 * c for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
            poly = np.array(t.poly)
            assert abs(min(xs) - poly[:, 0].min()) < 1 and abs(max(ys) - poly[:, 1].max()) < 1
    assert (out / "ImageSets/trainval.txt").exists()


def test_levir_lines(generated):
    out, truth = generated("levir", n=6, size=160)
    for im in truth.images:
        assert (im.width, im.height) == (160, 120) == Image.open(out / im.image).size
        rows = [line.split(" ") for line in (out / im.labels[0]).read_text().splitlines()]
        assert [r[0] for r in rows] == [t.label for t in im.objects]
        assert {r[0] for r in rows} <= {"1", "2", "3"}
        for r, t in zip(rows, im.objects):
            assert np.abs(np.array(r[1:], dtype=int) - np.array(t.box)).max() <= 1


def test_auair_json_matches_the_real_layout(generated, shared_data):
    real = json.loads((shared_data / "auair/auair_subset/annotations.json").read_text())
    out, truth = generated("auair", n=4, size=256)
    doc = json.loads((out / "annotations.json").read_text())
    assert doc.keys() == real.keys() and doc["categories"] == real["categories"]
    assert doc["annotations"][0].keys() == real["annotations"][0].keys()
    for ann, im in zip(doc["annotations"], truth.images):
        assert ann["image_name"] == im.image.split("/")[-1]
        assert (ann["image_width"], ann["image_height"]) == (float(im.width), float(im.height))
        assert [b["class"] for b in ann["bbox"]] == [int(t.label) for t in im.objects]
        for b, t in zip(ann["bbox"], im.objects):
            assert b.keys() == real["annotations"][0]["bbox"][0].keys()
            assert abs(b["left"] - t.box[0]) <= 1 and abs(b["top"] + b["height"] - t.box[3]) <= 1.01


def test_carpk_boxes(generated):
    out, truth = generated("carpk", n=3, size=256)
    for im in truth.images:
        rows = [list(map(int, line.split())) for line in (out / im.labels[0]).read_text().splitlines()]
        assert len(rows) == im.meta["count"] == len(im.objects) > 5
        assert all(r[4] == 1 and r[0] < r[2] and r[1] < r[3] for r in rows)


def test_visdrone_rows(generated):
    out, truth = generated("visdrone", n=6, size=200)
    seen = set()
    for im in truth.images:
        rows = [line.split(",") for line in (out / im.labels[0]).read_text().splitlines()]
        assert len(rows) == len(im.objects)
        for r, t in zip(rows, im.objects):
            assert len(r) == 8
            x, y, w, h, score, cat = map(int, r[:6])
            assert cat == int(t.label) and 0 <= cat <= 11 and score == (0 if cat == 0 else 1)
            assert abs(x - t.box[0]) <= 1 and abs(x + w - t.box[2]) <= 1
            seen.add(cat)
    assert 0 in seen and 4 in seen
