import pickle

import pytest
from reader_images import write_image

from rs_annotate.readers import READERS, BadInput, get_reader, load_all
from rs_annotate.readers.folder_sets import FOLDER_SETS
from rs_annotate.readers.imagefolder import class_phrase, split_class

SETS = [
    "imagefolder",
    "patternnet",
    "eurosat-rgb",
    "optimal-31",
    "rsc11",
    "aid",
    "mlrsnet",
    "rsi-cb128",
    "rsi-cb256",
    "resisc45",
    "whu-earth",
    "whu-rs19",
    "rs2800",
    "ucmerced",
    "rsscn7",
]


def test_every_set_is_registered_as_classification():
    load_all()
    for name in SETS:
        info = READERS[name].info
        assert info.kind == "classification"
        assert info.layout and info.license and info.url
        assert "80%" in info.layout  # the split rule is documented per set


@pytest.mark.parametrize(
    "raw,table,phrase",
    [
        ("denseresidential", get_reader("ucmerced").quirks.names, "dense residential"),
        ("golf_course", None, "golf course"),
        ("Airport", None, "airport"),
        ("DenseResidential", None, "dense residential"),
        ("railwayStation", None, "railway station"),
        ("harbor&port", get_reader("mlrsnet").quirks.names, "harbor and port"),
        ("ground-track-field", None, "ground track field"),
        ("SeaLake", get_reader("eurosat-rgb").quirks.names, "sea or lake"),
        ("dRiverLake", get_reader("rsscn7").quirks.names, "river or lake"),
        ("oil_gas_field", get_reader("patternnet").quirks.names, "oil and gas field"),
    ],
)
def test_class_phrase(raw, table, phrase):
    assert class_phrase(raw, table) == phrase


def test_sorted_split_takes_first_80_percent_of_sorted_names():
    assert split_class([f"f{i}" for i in range(10)], "sorted", 0.8, 0, "c") == ["train"] * 8 + ["test"] * 2
    assert split_class([f"f{i}" for i in range(7)], "sorted", 0.8, 0, "c") == ["train"] * 5 + ["test"] * 2


def test_random_split_is_seeded_and_keeps_the_counts():
    files = [f"f{i}" for i in range(20)]
    a = split_class(files, "random", 0.8, 1, "c")
    assert a == split_class(files, "random", 0.8, 1, "c")
    assert a.count("train") == 16
    assert a != split_class(files, "random", 0.8, 2, "c")
    assert a != ["train"] * 16 + ["test"] * 4


def _ucm(root, classes=("agricultural", "denseresidential", "golfcourse"), n=5):
    for c in classes:
        for i in reversed(range(n)):  # written out of order: the reader must sort
            write_image(root / "UCMerced_LandUse" / "Images" / c / f"{c}{i:02d}.tif", value=i)
    return root / "UCMerced_LandUse"


def test_ucmerced_layout_labels_and_split(tmp_path):
    reader = get_reader("ucmerced")(_ucm(tmp_path))
    assert reader.class_names == ["agricultural", "dense residential", "golf course"]
    samples = [reader.read(it) for it in reader.items()]
    assert len(samples) == 15 and not reader.skipped
    dense = [s for s in samples if s.label == 1]
    assert [s.meta["file"] for s in dense if s.split == "train"] == [
        f"denseresidential{i:02d}.tif" for i in range(4)
    ]
    assert [s.split for s in dense].count("test") == 1
    assert dense[0].image_id == "ucmerced/denseresidential/denseresidential00"
    assert dense[0].image_path.is_file() and dense[0].source == "ucmerced"
    assert len({s.image_id for s in samples}) == 15
    # Reader and items travel to worker processes.
    clone = pickle.loads(pickle.dumps(reader))
    assert clone.read(reader.items()[3]) == samples[3]


def test_split_options(tmp_path):
    root = _ucm(tmp_path, n=10)
    everything = get_reader("ucmerced")(root, split="test")
    assert {s.split for s in map(everything.read, everything.items())} == {"test"}
    a = get_reader("ucmerced")(root, split="random", seed=3)
    b = get_reader("ucmerced")(root, split="random", seed=3)
    assert a.items() == b.items()
    assert sum(it[3] == "train" for it in a.items()) == 24
    with pytest.raises(ValueError, match="split"):
        get_reader("ucmerced")(root, split="bogus")


def test_rsi_cb_classes_are_second_level_folders(tmp_path):
    root = tmp_path / "RSI-CB256"
    for group, cls in [
        ("transportation", "airport_runway"),
        ("transportation", "parkinglot"),
        ("water area", "sea"),
    ]:
        for i in range(3):
            write_image(root / group / cls / f"{i}.tif")
    reader = get_reader("rsi-cb256")(tmp_path)
    assert reader.class_names == ["airport runway", "parking lot", "sea"]
    assert len(reader.items()) == 9


def test_non_image_files_are_skipped_and_counted(tmp_path):
    root = tmp_path / "AID"
    for c in ("Airport", "BareLand"):
        for i in range(2):
            write_image(root / c / f"{c.lower()}_{i}.jpg")
    (root / "Airport" / "Thumbs.db").write_bytes(b"x")
    (root / "BareLand" / "notes.txt").write_text("x")
    (root / "README.md").write_text("x")  # beside the class folders and not an image: not part of the set
    write_image(root / "stray.jpg")  # an image outside every class folder: skipped and reported
    (root / "BareLand" / "extra").mkdir()
    reader = get_reader("aid")(tmp_path)
    assert reader.class_names == ["airport", "bare land"]
    assert len(reader.items()) == 4
    skipped = sorted(b.path.name for b in reader.skipped)
    assert skipped == ["Thumbs.db", "extra", "notes.txt", "stray.jpg"]
    assert all(str(b.path) in str(b) for b in reader.skipped)


def test_empty_class_folder_is_bad_input(tmp_path):
    write_image(tmp_path / "forest" / "a.jpg")
    (tmp_path / "river").mkdir()
    with pytest.raises(BadInput, match="empty class folder") as e:
        get_reader("imagefolder")(tmp_path)
    assert e.value.path == tmp_path / "river"
    # Only non-image files: still empty.
    (tmp_path / "river" / "desktop.ini").write_text("x")
    with pytest.raises(BadInput, match="empty class folder"):
        get_reader("imagefolder")(tmp_path)


def test_colliding_class_names_are_bad_input(tmp_path):
    write_image(tmp_path / "golf_course" / "a.jpg")
    write_image(tmp_path / "GolfCourse" / "b.jpg")
    with pytest.raises(BadInput, match="collides") as e:
        get_reader("imagefolder")(tmp_path)
    assert "golf course" in str(e.value)


def test_no_class_folders_is_bad_input(tmp_path):
    write_image(tmp_path / "a.jpg")
    with pytest.raises(BadInput, match="no class folders"):
        get_reader("imagefolder")(tmp_path)


def test_rs_synth_imagefolder_tree(tmp_path):
    from rs_synth.registry import FORMATS

    truth = FORMATS["imagefolder"].write(tmp_path / "if", 36, seed=0, size=32)
    reader = get_reader("imagefolder")(tmp_path / "if")
    natural = truth.meta["natural_names"]
    assert reader.class_names == sorted(natural.values())
    got = {s.image_path.relative_to(tmp_path / "if").as_posix(): s for s in map(reader.read, reader.items())}
    assert set(got) == {im.image for im in truth.images}
    for im in truth.images:
        assert reader.class_names[got[im.image].label] == im.meta["class_name"]
    # `_truth.json` sits beside the class folders: not an image, so not part of the set, never a class.
    assert reader.skipped == []
    # 36 images over 18 classes: 2 each, floor(0.8 * 2) = 1 train.
    assert sum(s.split == "train" for s in got.values()) == 18


def test_names_option_overrides_the_table(tmp_path):
    write_image(tmp_path / "bldg" / "a.jpg")
    write_image(tmp_path / "denseresidential" / "a.jpg")
    reader = get_reader("imagefolder")(tmp_path, names='{"bldg": "building"}')
    assert reader.class_names == ["building", "dense residential"]
    for bad, message in (
        ('{"bldg": ', "not valid JSON"),
        ('["building"]', "must map folder names"),
        ('{"bldg": 7}', "must map folder names"),
        ('{"bldg": " "}', "must map folder names"),
    ):
        with pytest.raises(ValueError, match=f"reader option names: {message}|reader option names {message}"):
            get_reader("imagefolder")(tmp_path, names=bad)


@pytest.mark.parametrize("quirks", FOLDER_SETS, ids=lambda q: q.name)
def test_each_set_reads_its_own_layout(tmp_path, quirks):
    """Every set: its usual image root, its class depth and its hand-written names."""
    base = tmp_path / (quirks.image_dirs[0] if quirks.image_dirs else "")
    raw = list(quirks.names)[:3] + ["Generic_Name"]
    for k, name in enumerate(raw):
        folder = base / ("group" + str(k % 2)) / name if quirks.class_depth == 2 else base / name
        for i in range(5):
            write_image(folder / f"{i}.jpg")
    reader = get_reader(quirks.name)(tmp_path)
    assert reader.class_names == sorted({*(quirks.names[n] for n in raw[:-1]), "generic name"})
    assert sum(it[3] == "train" for it in reader.items()) == 4 * len(raw)
