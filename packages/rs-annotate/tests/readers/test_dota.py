from pathlib import Path

import pytest

from rs_annotate.classnames import normalize
from rs_annotate.readers import BadInput, Box, get_reader
from rs_annotate.readers.dota import DotaReader, parse_labeltxt
from rs_synth.truth import Truth
from rs_synth.writers import dota as synth


def read_all(reader):
    out, bad = {}, {}
    for item in reader.items():
        try:
            s = reader.read(item)
            out[s.image_id] = s
        except BadInput as e:
            bad[item[0]] = e
    return out, bad


def test_registered():
    assert get_reader("dota") is DotaReader


def test_real_dota_sample(shared_data):
    reader = DotaReader(shared_data / "dota")
    assert [i[0] for i in reader.items()] == ["P0706", "P0770", "P1088", "P1234", "P1888"]
    samples, bad = read_all(reader)
    # Three label files have no image in the sample: each is a BadInput naming the label file.
    assert sorted(bad) == ["P0770", "P1088", "P1234"]
    assert bad["P0770"].path.name == "P0770.txt" and "no image" in str(bad["P0770"])
    s = samples["dota/P0706"]
    assert s.image_path.name == "P0706.png" and s.split == "train"
    assert s.meta == {"file": "labelTxt/P0706.txt", "imagesource": "GoogleEarth", "gsd": 0.255589285596}
    assert len(s.boxes) == 538 - 2  # 538 CRLF lines, 2 of them headers
    assert s.boxes[0] == Box("ship", 1054, 1011, 1112, 1062, difficult=True)
    assert s.boxes[-1] == Box("harbor", 573, 107, 1003, 540)
    assert {b.label for b in samples["dota/P1888"].boxes} >= {"small vehicle", "large vehicle"}


def test_real_dota_labels_only_and_integer_gsd(shared_data):
    reader = DotaReader(shared_data / "dota", require_images=False)
    samples, bad = read_all(reader)
    assert not bad
    s = samples["dota/P1234"]
    assert s.image_path is None and s.meta["gsd"] == 1.0 and s.meta["imagesource"] == "GF"
    assert Box("storage tank", 2604, 3931, 2614, 3942, difficult=True) in s.boxes
    labels = {b.label for s in samples.values() for b in s.boxes}
    assert {"ground track field", "swimming pool", "tennis court", "plane", "bridge"} <= labels
    assert not any("-" in label for label in labels)


def test_drop_difficult(shared_data):
    all_boxes = DotaReader(shared_data / "dota").read(DotaReader(shared_data / "dota").items()[0]).boxes
    easy = DotaReader(shared_data / "dota", drop_difficult=True)
    kept = easy.read(easy.items()[0]).boxes
    assert 0 < len(kept) < len(all_boxes)
    assert not any(b.difficult for b in kept)
    assert len(kept) == sum(not b.difficult for b in all_boxes)


def test_real_tiles_float_coords_no_header_empty_file(shared_data):
    reader = DotaReader(shared_data / "dota_tiles")
    samples, bad = read_all(reader)
    assert sorted(bad) == ["P0004__1__0___1024"]  # empty label file whose image is absent
    s = samples["dota/P2805__1024__0___0"]
    assert s.meta == {"file": "labelTxt/P2805__1024__0___0.txt"}
    assert len(s.boxes) == 4 and s.boxes[0] == Box("plane", 359.0, 497.0, 543.0, 677.0)
    s = samples["dota/P0004__1__0___0"]
    assert s.boxes[0] == Box("plane", 398.0, 694.0, 465.0, 718.0)
    assert [b.difficult for b in s.boxes] == [False, False, True, False]
    # The empty file parses to an image without objects.
    empty = DotaReader(shared_data / "dota_tiles", require_images=False)
    s = empty.read(next(i for i in empty.items() if i[0] == "P0004__1__0___1024"))
    assert s.boxes == []


def test_image_without_label(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "labelTxt").mkdir()
    (tmp_path / "images" / "a.png").write_bytes(b"x")
    reader = DotaReader(tmp_path)
    with pytest.raises(BadInput, match="no label file") as e:
        reader.read(reader.items()[0])
    assert e.value.path.name == "a.png"


@pytest.mark.parametrize(
    "line, message",
    [
        ("1 2 3 4 5 6 7 plane 0", "coordinate 'plane' is not a number"),  # 7 coordinates
        ("1 2 3 4 5 6 7 8", "got 8 field"),
        ("1 2 3 x 5 6 7 8 plane 0", "'x' is not a number"),
        ("1 2 3 4 5 6 7 nan plane 0", "not finite"),
        ("1 2 3 4 5 6 7 8 plane 2", "difficult flag"),
        ("1 2 3 4 5 6 7 8 plane 0 extra", "got 11 field"),
    ],
)
def test_malformed_lines(line, message):
    text = "imagesource:GoogleEarth\r\ngsd:0.5\r\n1 1 2 1 2 2 1 2 ship 0\r\n" + line + "\r\n"
    with pytest.raises(BadInput, match=message) as e:
        parse_labeltxt(text, Path("labelTxt/x.txt"))
    assert e.value.line == 4 and "labelTxt/x.txt:4" in str(e.value)


def test_nine_fields_and_null_gsd():
    labels = parse_labeltxt("gsd:null\n10.5 2 30 2 30 8 10.5 8 container-crane\n", Path("x.txt"))
    assert labels.header == {"gsd": None}
    assert labels.boxes() == [Box("container crane", 10.5, 2, 30, 8)]


def test_split_folders_and_empty_root(tmp_path):
    for split in ("train", "val"):
        (tmp_path / split / "labelTxt").mkdir(parents=True)
        (tmp_path / split / "images").mkdir()
        (tmp_path / split / "labelTxt" / f"{split}1.txt").write_text("1 1 5 1 5 5 1 5 ship 0\n")
        (tmp_path / split / "images" / f"{split}1.png").write_bytes(b"x")
    reader = DotaReader(tmp_path)
    assert [(s.image_id, s.split) for s in map(reader.read, reader.items())] == [
        ("dota/train1", "train"),
        ("dota/val1", "val"),
    ]
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInput, match="no labelTxt/"):
        DotaReader(tmp_path / "empty").items()


def test_rs_synth_dota(tmp_path):
    truth = synth.write(tmp_path / "dota", n=6, seed=3, size=256)
    reader = DotaReader(tmp_path / "dota")
    samples = [reader.read(item) for item in reader.items()]
    assert truth == Truth.load(tmp_path / "dota")
    assert [s.image_path.relative_to(tmp_path / "dota").as_posix() for s in samples] == [
        im.image for im in truth.images
    ]
    n_boxes = 0
    for s, im in zip(samples, truth.images):
        assert s.meta["gsd"] == float(im.meta["gsd"]) and s.meta["imagesource"] == im.meta["imagesource"]
        expected = []
        for o in im.objects:
            xs = [round(x) for x, _ in o.poly]
            ys = [round(y) for _, y in o.poly]
            expected.append(Box(normalize(o.label), min(xs), min(ys), max(xs), max(ys), bool(o.difficult)))
        assert s.boxes == expected
        n_boxes += len(expected)
    assert n_boxes > 6
