import pytest
from reader_images import write_image

from rs_annotate.readers import READERS, BadInput, Box, get_reader
from rs_annotate.readers.carpk import parse_carpk
from rs_annotate.readers.levir import parse_levir


def test_levir_lines_become_boxes(tmp_path):
    text = "1 10 20 110 90\n\n2\t5\t6\t50\t40\r\n3,100,100,140,150\n"
    boxes = parse_levir(text, tmp_path / "a.txt")
    assert boxes == [
        Box("airplane", 10, 20, 110, 90),
        Box("ship", 5, 6, 50, 40),
        Box("oil tank", 100, 100, 140, 150),
    ]


@pytest.mark.parametrize(
    "line,match",
    [
        ("1 10 20 110", "expected 'class x1 y1 x2 y2', got 4"),
        ("1 10 20 110 9x", "coordinate '9x' is not a number"),
        ("4 10 20 110 90", "unknown class id '4'"),
    ],
)
def test_levir_malformed_lines(tmp_path, line, match):
    with pytest.raises(BadInput, match=match) as e:
        parse_levir("1 1 1 5 5\n" + line + "\n", tmp_path / "a.txt")
    assert e.value.line == 2 and e.value.path.name == "a.txt"


def test_levir_tree_pairs_images_and_labels(tmp_path):
    folder = tmp_path / "imageWithLabel"
    write_image(folder / "10002.jpg", (80, 60))
    (folder / "10002.txt").write_text("2 1 2 30 40\n1 40 10 70 50\n")
    write_image(folder / "10001.jpg", (80, 60))
    (folder / "10001.txt").write_text("")
    write_image(folder / "10003.jpg", (80, 60))  # no label
    (folder / "10004.txt").write_text("1 1 1 2 2\n")  # no image
    reader = get_reader("levir")(tmp_path)
    items = reader.items()
    assert [it[0] and it[0].split("/")[-1] for it in items] == ["10001.jpg", "10002.jpg", "10003.jpg", None]
    empty, two = reader.read(items[0]), reader.read(items[1])
    assert empty.boxes == [] and empty.image_id == "levir/imageWithLabel/10001"
    assert [b.label for b in two.boxes] == ["ship", "airplane"] and two.source == "levir"
    with pytest.raises(BadInput, match="image has no label file") as e:
        reader.read(items[2])
    assert e.value.path.name == "10003.jpg"
    with pytest.raises(BadInput, match="label file has no image") as e:
        reader.read(items[3])
    assert e.value.path.name == "10004.txt"
    lenient = get_reader("levir")(tmp_path, missing_label="empty")
    assert lenient.read(items[2]).boxes == [] and lenient.read(items[2]).meta["labelled"] is False


def test_levir_separate_label_dir(tmp_path):
    write_image(tmp_path / "images" / "a.png")
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "a.txt").write_text("3 1 1 4 4\n")
    reader = get_reader("levir")(tmp_path, label_dir="labels", image_dir="images")
    (sample,) = [reader.read(it) for it in reader.items()]
    assert sample.boxes == [Box("oil tank", 1, 1, 4, 4)]


def _carpk(root, with_sets=True):
    data = root / "CARPK_devkit" / "data"
    for stem, lines in [("20160331_NTU_00001", "1 2 31 22 1\n40 5 70 25 1\n"), ("20161225_TPZ_00002", "")]:
        write_image(data / "Images" / f"{stem}.png", (80, 40))
        (data / "Annotations").mkdir(parents=True, exist_ok=True)
        (data / "Annotations" / f"{stem}.txt").write_text(lines)
    if with_sets:
        (data / "ImageSets").mkdir()
        (data / "ImageSets" / "train.txt").write_text("20160331_NTU_00001\n")
        (data / "ImageSets" / "test.txt").write_text("20161225_TPZ_00002\n")
    return root / "CARPK_devkit"


def test_carpk_layout_and_splits(tmp_path):
    reader = get_reader("carpk")(_carpk(tmp_path))
    samples = [reader.read(it) for it in reader.items()]
    assert [(s.image_id, s.split, len(s.boxes)) for s in samples] == [
        ("carpk/20160331_NTU_00001", "train", 2),
        ("carpk/20161225_TPZ_00002", "test", 0),
    ]
    assert samples[0].boxes[1] == Box("car", 40, 5, 70, 25)
    assert READERS["pucpr+"].info.layout and get_reader("pucpr+")(tmp_path / "CARPK_devkit" / "data").items()


def test_carpk_bad_input(tmp_path):
    root = _carpk(tmp_path)
    with pytest.raises(BadInput, match="unknown class id '2'") as e:
        parse_carpk("1 2 3 4 1\n1 2 3 4 2\n", tmp_path / "x.txt")
    assert e.value.line == 2
    with pytest.raises(BadInput, match="got 4 field"):
        parse_carpk("1 2 3 4\n", tmp_path / "x.txt")
    data = root / "data"
    (data / "ImageSets" / "test.txt").write_text("20161225_TPZ_00002\nghost\n")
    (data / "Annotations" / "20160331_NTU_00001.txt").unlink()
    reader = get_reader("carpk")(root)
    items = {it[0]: it for it in reader.items()}
    with pytest.raises(BadInput, match="has no image and no annotation"):
        reader.read(items["ghost"])
    with pytest.raises(BadInput, match="image has no annotation file"):
        reader.read(items["20160331_NTU_00001"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInput, match="no Annotations/ or Images/"):
        get_reader("carpk")(tmp_path / "empty").items()
