import pytest
from reader_images import write_image

from rs_annotate.readers import BadInput, Box, get_reader
from rs_annotate.readers.visdrone import parse_visdrone

TEXT = """684,8,273,116,0,0,0,0
406,119,265,70,1,4,0,0
255,22,119,128,1,9,0,1,
1,2,3,4,1,11,0,0
10,20,5,6,1,2,1,2
"""


def test_rules_for_ignored_others_and_occlusion(tmp_path):
    boxes, dropped = parse_visdrone(TEXT, tmp_path / "a.txt")
    assert boxes == [
        Box("car", 406, 119, 671, 189),
        Box("bus", 255, 22, 374, 150),
        Box("people", 10, 20, 15, 26),
    ]
    assert dropped == {"ignored regions": 1, "others": 1}
    boxes, dropped = parse_visdrone(TEXT, tmp_path / "a.txt", others_label="vehicle", max_occlusion=1)
    assert [b.label for b in boxes] == ["car", "bus", "vehicle"]
    assert dropped == {"ignored regions": 1, "occlusion 2": 1}


@pytest.mark.parametrize(
    "line,match",
    [
        ("1,2,3,4,1,4,0", "got 7 field"),
        ("1,2,3,4,1,12,0,0", "category '12' is not one of 0-11"),
        ("1,2,x,4,1,4,0,0", "coordinate 'x' is not a number"),
        ("1,2,3,4,1,4,0,zz", "occlusion 'zz' is not a number"),
    ],
)
def test_malformed_lines(tmp_path, line, match):
    with pytest.raises(BadInput, match=match) as e:
        parse_visdrone("1,2,3,4,1,4,0,0\n" + line + "\n", tmp_path / "a.txt")
    assert e.value.line == 2


def test_split_folders(tmp_path):
    for folder, stem in [
        ("VisDrone2019-DET-train", "0000002_00005_d_0000014"),
        ("VisDrone2019-DET-val", "0000001_02999_d_0000005"),
        ("VisDrone2019-DET-test-dev", "9999938_00000_d_0000207"),
    ]:
        write_image(tmp_path / folder / "images" / f"{stem}.jpg", (64, 48))
        (tmp_path / folder / "annotations").mkdir()
        (tmp_path / folder / "annotations" / f"{stem}.txt").write_text(TEXT)
    write_image(tmp_path / "VisDrone2019-DET-val" / "images" / "orphan.jpg")
    reader = get_reader("visdrone")(tmp_path)
    items = reader.items()
    assert [(it[0], it[1]) for it in items] == [
        ("9999938_00000_d_0000207", "test"),
        ("0000002_00005_d_0000014", "train"),
        ("0000001_02999_d_0000005", "val"),
        ("orphan", "val"),
    ]
    s = reader.read(items[1])
    assert s.image_id == "visdrone/0000002_00005_d_0000014" and len(s.boxes) == 4
    assert s.meta["dropped"] == {"ignored regions": 1}  # 'others' kept, as the 11th class
    assert [b.label for b in s.boxes].count("other object") == 1
    s = get_reader("visdrone")(tmp_path, others_label=None).read(items[1])
    assert len(s.boxes) == 3 and s.meta["dropped"] == {"ignored regions": 1, "others": 1}
    with pytest.raises(BadInput, match="image has no annotation file"):
        reader.read(items[3])
    one = get_reader("visdrone")(tmp_path / "VisDrone2019-DET-val")
    assert [it[1] for it in one.items()] == ["val", "val"]
    # Table I's VisDrone (6,471 images) is the train split alone.
    assert [it[1] for it in get_reader("visdrone")(tmp_path, splits="train").items()] == ["train"]
    with pytest.raises(BadInput, match="no split 'tain' here"):
        get_reader("visdrone")(tmp_path, splits="tain").items()
