import math
from pathlib import Path

import pytest

from rs_annotate.classnames import DIOR, HRRSD, RSOD, normalize
from rs_annotate.readers import BadInput, Box, get_reader
from rs_annotate.readers.voc import VocReader, rotated_box
from rs_annotate.readers.voc_sets import DiorReader, DiorRReader, HrrsdReader, RsodReader
from rs_synth.writers import voc as synth


def test_registered():
    for name, cls in [
        ("voc", VocReader),
        ("dior", DiorReader),
        ("dior-r", DiorRReader),
        ("hrrsd", HrrsdReader),
        ("rsod", RsodReader),
    ]:
        assert get_reader(name) is cls


@pytest.mark.parametrize("cls", [DiorRReader, DiorReader])
def test_real_dior_r(shared_data, cls):
    reader = cls(shared_data / "dior")
    (item,) = reader.items()
    s = reader.read(item)
    assert s.image_id == "dior/00001" and s.source == "dior" and s.split == "train"
    assert s.image_path == shared_data / "dior" / "JPEGImage" / "00001.jpg"
    assert s.size == (800, 800)
    assert s.boxes == [Box("golf field", 133, 237, 684, 672)]
    assert s.meta == {"file": "Annotations/Oriented Bounding Boxes/00001.xml"}


def test_real_hrrsd_owner_name_is_not_an_object(shared_data):
    reader = HrrsdReader(shared_data / "hrrsd")
    items = reader.items()
    assert [i[0] for i in items] == ["00002", "03600", "04400", "06000", "14800", "21200"]
    with pytest.raises(BadInput, match="no image for this annotation") as e:
        reader.read(items[0])  # the sample has no JPEGs
    assert e.value.path.name == "00002.xml"
    reader = HrrsdReader(shared_data / "hrrsd", require_images=False)
    samples = {s.image_id: s for s in map(reader.read, reader.items())}
    labels = {b.label for s in samples.values() for b in s.boxes}
    assert "snail_crowling" not in labels and "snail crowling" not in labels
    assert {
        "airplane",
        "storage tank",
        "t junction",
        "parking lot",
        "baseball diamond",
        "basketball court",
        "vehicle",
        "harbor",
    } == labels
    s = samples["hrrsd/00002"]
    assert s.size == (1627, 2101) and len(s.boxes) == 6
    assert s.boxes[0] == Box("airplane", 1229, 118, 1327, 234)
    assert sum(len(s.boxes) for s in samples.values()) == 6 + 5 + 1 + 2 + 1 + 2 + 3 + 13


def _expected(objs, table, w, h):
    return [
        Box(
            normalize(o.label, table),
            max(0, math.floor(o.box[0])),
            max(0, math.floor(o.box[1])),
            min(w, math.ceil(o.box[2])),
            min(h, math.ceil(o.box[3])),
            bool(o.difficult),
        )
        for o in objs
    ]


@pytest.mark.parametrize(
    "writer, cls, table",
    [
        (synth.write_dior, DiorReader, DIOR),
        (synth.write_hrrsd, HrrsdReader, HRRSD),
        (synth.write_rsod, RsodReader, RSOD),
    ],
)
def test_rs_synth_voc(tmp_path, writer, cls, table):
    truth = writer(tmp_path / "ds", n=8, seed=5, size=128)
    reader = cls(tmp_path / "ds")
    samples = {
        s.image_path.relative_to(tmp_path / "ds").as_posix(): s for s in map(reader.read, reader.items())
    }
    assert sorted(samples) == sorted(im.image for im in truth.images)
    n = 0
    for im in truth.images:
        s = samples[im.image]
        assert s.size == (im.width, im.height)
        assert s.boxes == _expected(im.objects, table, im.width, im.height)
        if cls is not RsodReader:  # RSOD has no split lists
            assert s.split == im.split
        n += len(s.boxes)
    assert n > 8
    labels = {b.label for s in samples.values() for b in s.boxes}
    assert all(label == label.lower() and "-" not in label for label in labels)


XML = """<annotation>
  <filename>{fname}</filename>
  <owner><name>someone</name></owner>
  <size><width>100</width><height>80</height><depth>3</depth></size>
  <object>
    <name>storagetank</name>
    <difficult>1</difficult>
    <bndbox><xmin>1</xmin><ymin>2</ymin><xmax>30</xmax><ymax>40</ymax></bndbox>
  </object>
  {extra}
</annotation>
"""


def make_voc(root: Path, extra="", fname="a.jpg", image=True) -> Path:
    (root / "Annotations").mkdir(parents=True, exist_ok=True)
    (root / "JPEGImages").mkdir(exist_ok=True)
    (root / "Annotations" / "a.xml").write_text(XML.format(fname=fname, extra=extra))
    if image:
        (root / "JPEGImages" / fname).write_bytes(b"x")
    return root


def test_difficult_rotated_and_filename_lookup(tmp_path):
    rob = (
        "<object><name>ship</name><robndbox><cx>50</cx><cy>40</cy><w>20</w><h>10</h>"
        "<angle>1.5707963267948966</angle></robndbox></object>"
    )
    make_voc(tmp_path, rob, fname="other_name.jpg")
    reader = VocReader(tmp_path)
    s = reader.read(reader.items()[0])
    assert s.image_path.name == "other_name.jpg"  # found through <filename>, not the stem
    assert s.boxes[0] == Box("storagetank", 1, 2, 30, 40, difficult=True)  # no table in plain VOC
    assert [round(v, 6) for v in (s.boxes[1].x0, s.boxes[1].y0, s.boxes[1].x1, s.boxes[1].y1)] == [
        45,
        30,
        55,
        50,
    ]
    easy = VocReader(tmp_path, drop_difficult=True)
    assert [b.label for b in easy.read(easy.items()[0]).boxes] == ["ship"]


def test_rotated_box():
    assert [round(v, 9) for v in rotated_box(10, 20, 4, 2, 0.0)] == [8, 19, 12, 21]
    r = math.sqrt(2)
    assert [round(v, 9) for v in rotated_box(0, 0, 2, 2, math.pi / 4)] == [
        round(v, 9) for v in (-r, -r, r, r)
    ]


@pytest.mark.parametrize(
    "extra, message, line",
    [
        (
            "<object><name>ship</name><bndbox><xmin>1</xmin><ymin>y</ymin><xmax>3</xmax><ymax>4</ymax></bndbox></object>",
            "<ymin> 'y' is not a number",
            10,
        ),
        (
            "<object><name>ship</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>3</xmax></bndbox></object>",
            "<bndbox> has no <ymax> value",
            10,
        ),
        (
            "<object><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>3</xmax><ymax>4</ymax></bndbox></object>",
            "<object> has no <name>",
            10,
        ),
        ("<object><name>ship</name></object>", "neither <bndbox> nor <robndbox>", 10),
        (
            "<object><name>ship</name><difficult>yes</difficult></object>",
            "<difficult> 'yes' is not 0 or 1",
            10,
        ),
        ("<object><name>ship</name>", "not well-formed XML", 11),
    ],
)
def test_malformed_xml(tmp_path, extra, message, line):
    make_voc(tmp_path, extra)
    reader = VocReader(tmp_path)
    with pytest.raises(BadInput, match=message) as e:
        reader.read(reader.items()[0])
    assert e.value.path.name == "a.xml" and e.value.line == line


def test_missing_files(tmp_path):
    make_voc(tmp_path, image=False)
    (tmp_path / "JPEGImages" / "b.jpg").write_bytes(b"x")
    reader = VocReader(tmp_path)
    items = reader.items()
    assert [i[0] for i in items] == ["a", "b"]
    with pytest.raises(BadInput, match="no image for this annotation"):
        reader.read(items[0])
    with pytest.raises(BadInput, match="image has no annotation XML") as e:
        reader.read(items[1])
    assert e.value.path.name == "b.jpg"
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInput, match="no annotation XML found"):
        DiorReader(tmp_path / "empty").items()


def test_split_lists_and_test_folder(tmp_path):
    make_voc(tmp_path)
    (tmp_path / "ImageSets" / "Main").mkdir(parents=True)
    (tmp_path / "ImageSets" / "Main" / "val.txt").write_text("a\n")
    reader = DiorReader(tmp_path, images="JPEGImages")
    s = reader.read(reader.items()[0])
    assert s.split == "val" and s.boxes[0].label == "storage tank"
    (tmp_path / "ImageSets" / "Main" / "val.txt").unlink()
    (tmp_path / "JPEGImages").rename(tmp_path / "JPEGImages-test")
    reader = DiorReader(tmp_path)
    assert reader.items()[0][1] == "test"
