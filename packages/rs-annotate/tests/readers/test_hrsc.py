from pathlib import Path

import pytest

from rs_annotate.readers import BadInput, Box, get_reader
from rs_annotate.readers.hrsc import HrscReader
from rs_synth.writers import hrsc as synth


def test_registered():
    assert get_reader("hrsc") is HrscReader


def test_real_sample(shared_data):
    reader = HrscReader(shared_data / "hrsc")
    (item,) = reader.items()
    with pytest.raises(BadInput, match="no image for this annotation"):
        reader.read(item)  # the sample has no AllImages/
    reader = HrscReader(shared_data / "hrsc", require_images=False)
    s = reader.read(reader.items()[0])
    assert s.image_id == "hrsc/100000006" and s.size == (1172, 816)
    assert s.boxes == [Box("ship", 119, 75, 587, 789)]
    assert s.meta == {
        "file": "FullDataSet/Annotations/100000006.xml",
        "class_ids": ["100000013"],
        "gsd": 1.07,
    }
    obb = HrscReader(shared_data / "hrsc", require_images=False, boxes="obb")
    (box,) = obb.read(obb.items()[0]).boxes
    # Axis-aligned hull of the rotated box (cx 341.2, cy 443.3, 778.4 x 178.3, -1.123 rad) encloses
    # the annotated horizontal box.
    assert box.x0 < 119 and box.y0 < 75 and box.x1 > 587 and box.y1 > 789
    assert (box.x0 + box.x1) / 2 == pytest.approx(341.2143) and (box.y0 + box.y1) / 2 == pytest.approx(
        443.3325
    )


def make_release(shared_data, root: Path, body: str) -> Path:
    """HRSC2016's release layout (Train/ and Test/) with one image each."""
    text = (shared_data / "hrsc" / "FullDataSet" / "Annotations" / "100000006.xml").read_text()
    for split in ("Train", "Test"):
        (root / split / "Annotations").mkdir(parents=True)
        (root / split / "AllImages").mkdir()
        name = f"1000{split == 'Test':d}"
        xml = text.replace("<Img_FileName>100000006", f"<Img_FileName>{name}")
        if split == "Test":
            start, end = xml.index("<HRSC_Objects>"), xml.index("</HRSC_Objects>")
            xml = xml[:start] + "<HRSC_Objects>" + body + xml[end:]
        (root / split / "Annotations" / f"{name}.xml").write_text(xml)
        (root / split / "AllImages" / f"{name}.bmp").write_bytes(b"x")
    return root


def test_release_layout_splits_and_fallback_to_rotated_box(shared_data, tmp_path):
    body = (
        "<HRSC_Object><Class_ID>100000002</Class_ID><difficult>1</difficult><box_xmin></box_xmin>"
        "<mbox_cx>50</mbox_cx><mbox_cy>40</mbox_cy><mbox_w>20</mbox_w><mbox_h>10</mbox_h>"
        "<mbox_ang>0</mbox_ang></HRSC_Object>"
    )
    reader = HrscReader(make_release(shared_data, tmp_path, body))
    train, test = map(reader.read, reader.items())
    assert (train.image_id, train.split, train.image_path.name) == ("hrsc/10000", "train", "10000.bmp")
    assert (test.image_id, test.split) == ("hrsc/10001", "test")
    assert test.boxes == [Box("ship", 40, 35, 60, 45, difficult=True)]
    assert test.meta["class_ids"] == ["100000002"]
    easy = HrscReader(tmp_path, drop_difficult=True)
    assert easy.read(easy.items()[1]).boxes == []


@pytest.mark.parametrize(
    "body, message",
    [
        (
            "<HRSC_Object><box_xmin>1</box_xmin><box_ymin>2</box_ymin><box_xmax>x</box_xmax>"
            "<box_ymax>4</box_ymax></HRSC_Object>",
            "<box_xmax> 'x' is not a number",
        ),
        ("<HRSC_Object><Class_ID>100000001</Class_ID></HRSC_Object>", "neither box_xmin..box_ymax nor mbox_"),
    ],
)
def test_malformed(shared_data, tmp_path, body, message):
    reader = HrscReader(make_release(shared_data, tmp_path, body))
    with pytest.raises(BadInput, match=message) as e:
        reader.read(reader.items()[1])
    assert e.value.path.name == "10001.xml" and e.value.line is not None
    with pytest.raises(ValueError, match="boxes must be"):
        HrscReader(tmp_path, boxes="rotated").read(reader.items()[0])


def test_wrong_root_element(tmp_path):
    (tmp_path / "Annotations").mkdir()
    (tmp_path / "Annotations" / "1.xml").write_text("<annotation></annotation>")
    reader = HrscReader(tmp_path, require_images=False)
    with pytest.raises(BadInput, match="expected <HRSC_Image>"):
        reader.read(reader.items()[0])


def test_rs_synth_hrsc(tmp_path):
    truth = synth.write(tmp_path / "hrsc", n=5, seed=2, size=128)
    reader = HrscReader(tmp_path / "hrsc")
    obb = HrscReader(tmp_path / "hrsc", boxes="obb")
    n = 0
    for item, im in zip(reader.items(), truth.images):
        s, o = reader.read(item), obb.read(item)
        assert s.image_path.relative_to(tmp_path / "hrsc").as_posix() == im.image
        assert s.split == ("test" if im.split == "test" else "train")
        assert s.boxes == [Box("ship", *(round(v) for v in t.box)) for t in im.objects]
        assert s.meta["class_ids"] == [t.label for t in im.objects]
        for box, t in zip(o.boxes, im.objects):  # the rotated box's hull is the polygon's hull
            xs, ys = [p[0] for p in t.poly], [p[1] for p in t.poly]
            assert [box.x0, box.y0, box.x1, box.y1] == pytest.approx(
                [min(xs), min(ys), max(xs), max(ys)], abs=0.02
            )
        n += len(s.boxes)
    assert n > 0
