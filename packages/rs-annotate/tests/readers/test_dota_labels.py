"""The public DOTA labelTxt parser (rs_annotate.readers.dota) on both kinds of real files and its rules."""

import pickle
from pathlib import Path

import pytest

from rs_annotate.readers import BadInput
from rs_annotate.readers.dota import DotaObject, parse_labeltxt, read_labeltxt
from rs_formats import FormatError


def object_lines(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, fields) of every object line, read the plain way: what the parser must agree with."""
    lines = path.read_bytes().decode().split("\r\n" if b"\r\n" in path.read_bytes() else "\n")
    return [(i, ln.split()) for i, ln in enumerate(lines, start=1) if len(ln.split()) == 10]


@pytest.mark.parametrize("stem", ["P0706", "P0770", "P1088", "P1234", "P1888"])
def test_real_dota_v1_files(shared_data, stem):
    path = shared_data / "dota" / "labelTxt" / f"{stem}.txt"
    labels = read_labeltxt(path)
    expected = object_lines(path)
    assert len(labels.objects) == len(expected) > 0
    for obj, (line, fields) in zip(labels.objects, expected):
        assert obj.line == line and obj.label == fields[8] and obj.difficult == (fields[9] == "1")
        assert obj.polygon == tuple(float(f) for f in fields[:8])
    assert expected[0][0] == 3  # two header lines come first
    assert set(labels.header) == {"imagesource", "gsd"}
    assert labels.imagesource in ("GoogleEarth", "GF") and labels.gsd > 0


def test_real_header_values_float_and_integer_gsd(shared_data):
    assert read_labeltxt(shared_data / "dota" / "labelTxt" / "P0706.txt").header == {
        "imagesource": "GoogleEarth",
        "gsd": 0.255589285596,
    }
    p1234 = read_labeltxt(shared_data / "dota" / "labelTxt" / "P1234.txt")
    assert p1234.header == {"imagesource": "GF", "gsd": 1.0}


def test_real_split_tiles_float_corners_no_header_empty_file(shared_data):
    tile = read_labeltxt(shared_data / "dota_tiles" / "labelTxt" / "P2805__1024__0___0.txt")
    assert tile.header == {} and tile.imagesource is None and tile.gsd is None
    assert [o.line for o in tile.objects] == [1, 2, 3, 4]
    assert tile.objects[0] == DotaObject(
        (359.0, 663.0, 369.0, 497.0, 543.0, 509.0, 531.0, 677.0), "plane", False, 1
    )
    assert tile.objects[0].box() == (359.0, 497.0, 543.0, 677.0)
    p0004 = read_labeltxt(shared_data / "dota_tiles" / "labelTxt" / "P0004__1__0___0.txt")
    assert [o.difficult for o in p0004.objects] == [False, False, True, False]
    empty = read_labeltxt(shared_data / "dota_tiles" / "labelTxt" / "P0004__1__0___1024.txt")
    assert empty.objects == [] and empty.header == {}


def test_oriented_box_width_and_boxes():
    # A 40 x 10 rectangle turned 90 degrees and shifted: its width is 10 whatever the corner order.
    obj = DotaObject((5, 0, 15, 0, 15, 40, 5, 40), "bridge", True, 7)
    assert obj.short_side() == pytest.approx(10)
    labels = parse_labeltxt("5 0 15 0 15 40 5 40 ground-track-field 1\n1 1 2 1 2 2 1 2 plane 0\n", "x.txt")
    assert [(b.label, b.difficult) for b in labels.boxes()] == [
        ("ground track field", True),
        ("plane", False),
    ]
    assert [b.label for b in labels.boxes(drop_difficult=True)] == ["plane"]


def test_header_rules():
    text = "\ufeffImageSource: GoogleEarth\r\nGSD : 0.5\r\n\r\n1 1 2 1 2 2 1 2 ship 0\r\n"
    labels = parse_labeltxt(text, "x.txt")
    assert labels.header == {"imagesource": "GoogleEarth", "gsd": 0.5} and labels.objects[0].line == 4
    for null in ("null", "None", "nan", ""):
        assert parse_labeltxt(f"gsd:{null}\n", "x.txt").header == {"gsd": None}
    with pytest.raises(BadInput, match="header line 'gsd' after the first object") as e:
        parse_labeltxt("1 1 2 1 2 2 1 2 ship 0\ngsd:0.3\n", "x.txt")
    assert e.value.line == 2
    for bad in ("0", "-0.3", "inf", "fast"):
        with pytest.raises(BadInput, match="gsd") as e:
            parse_labeltxt(f"imagesource:GF\ngsd:{bad}\n", "x.txt")
        assert str(e.value).startswith("x.txt:2: ")


def test_bad_input_is_a_format_error_with_a_kind_that_pickles(tmp_path):
    with pytest.raises(FormatError) as e:
        read_labeltxt(tmp_path / "absent.txt")
    assert isinstance(e.value, BadInput) and "absent.txt" in str(e.value)
    err = BadInput(tmp_path / "a.txt", "no image", 3, kind="missing-image")
    back = pickle.loads(pickle.dumps(err))
    assert (type(back), str(back), back.line, back.kind, back.message) == (
        BadInput,
        str(err),
        3,
        "missing-image",
        "no image",
    )
    (tmp_path / "latin.txt").write_bytes(b"imagesource:G\xe9\n")
    with pytest.raises(BadInput, match="not UTF-8"):
        read_labeltxt(tmp_path / "latin.txt")
