import json

import pytest
from reader_images import write_image

from rs_annotate.readers import BadInput, Box, get_reader

CATEGORIES = ["Human", "Car", "Truck", "Van", "Motorbike", "Bicycle", "Bus", "Trailer"]


def test_real_auair_subset(shared_data):
    root = shared_data / "auair" / "auair_subset"
    reader = get_reader("auair")(root)
    samples = [reader.read(it) for it in reader.items()]
    raw = json.loads((root / "annotations.json").read_text())["annotations"]
    assert [s.meta["file"] for s in samples] == sorted(e["image_name"] for e in raw)
    first = next(s for s in samples if s.meta["file"] == "frame_20190829091111_x_0001973.jpg")
    assert first.boxes == [
        Box("car", 1098, 163, 1518, 348),
        Box("car", 1128, 421, 1521, 597),
        Box("human", 1703, 927, 1886, 1080),
    ]
    assert first.size == (1920, 1080) and first.image_path.is_file() and first.source == "auair"
    assert first.image_id == "auair/frame_20190829091111_x_0001973"
    assert first.meta["altitude"] == pytest.approx(19921.6)
    assert sum(len(s.boxes) for s in samples) == sum(len(e["bbox"]) for e in raw)
    names = {b.label for s in samples for b in s.boxes}
    assert names <= {c.lower() for c in CATEGORIES}


def _auair(root, annotations, categories=CATEGORIES):
    root.mkdir(parents=True, exist_ok=True)
    (root / "annotations.json").write_text(
        json.dumps({"info": {}, "licenses": [], "categories": categories, "annotations": annotations})
    )
    return root


def _entry(name, boxes):
    return {"image_name": name, "image_width": 64.0, "image_height": 48.0, "altitude": 1.0, "bbox": boxes}


def test_release_layout_and_box_convention(tmp_path):
    _auair(
        tmp_path / "auair2019annotations",
        [
            _entry("b.jpg", [{"top": 4, "left": 10, "height": 6, "width": 20, "class": 7}]),
            _entry("a.jpg", []),
        ],
    )
    for name in ("a.jpg", "b.jpg"):
        write_image(tmp_path / "auair2019data" / "images" / name, (64, 48))
    reader = get_reader("auair")(tmp_path)
    a, b = (reader.read(it) for it in reader.items())
    assert a.image_id == "auair/a" and a.boxes == []
    assert b.boxes == [Box("trailer", 10, 4, 30, 10)] and b.size == (64, 48) and b.split == "train"


@pytest.mark.parametrize(
    "boxes,match",
    [
        ([{"top": 1, "left": 1, "height": 2, "width": 2, "class": 8}], r"bbox\[0\]: class 8 is not an index"),
        ([{"top": 1, "left": 1, "height": 2, "class": 1}], r"bbox\[0\]: expected an object with"),
        ([{"top": "1", "left": 1, "height": 2, "width": 2, "class": 1}], "top '1' is not a number"),
        ("nope", "bbox is not a list"),
    ],
)
def test_bad_entries_name_the_entry(tmp_path, boxes, match):
    _auair(tmp_path, [_entry("a.jpg", boxes)])
    write_image(tmp_path / "images" / "a.jpg")
    reader = get_reader("auair")(tmp_path)
    with pytest.raises(BadInput, match=match) as e:
        reader.read(reader.items()[0])
    assert e.value.path.name == "annotations.json" and "annotations[0] (a.jpg)" in str(e.value)


def test_missing_image_and_bad_file(tmp_path):
    _auair(tmp_path, [_entry("gone.jpg", [])])
    (tmp_path / "images").mkdir()
    reader = get_reader("auair")(tmp_path)
    with pytest.raises(BadInput, match="image gone.jpg not found"):
        reader.read(reader.items()[0])
    (tmp_path / "annotations.json").write_text('{"annotations": [')
    with pytest.raises(BadInput, match="not valid JSON"):
        get_reader("auair")(tmp_path).items()
    _auair(tmp_path, [], categories="Human")
    with pytest.raises(BadInput, match="'categories' must be a list"):
        get_reader("auair")(tmp_path).items()
