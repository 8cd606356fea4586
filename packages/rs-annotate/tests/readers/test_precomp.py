import shutil

import pytest
from reader_images import write_image

from rs_annotate.readers import BadInput, get_reader
from rs_annotate.readers.precomp import group_captions


@pytest.mark.parametrize("name,n_lines", [("rsicd", 5465), ("rsitmd", 2260), ("ucm", 1050)])
def test_real_amfmn_test_splits_group_five_captions_per_image(shared_data, tmp_path, name, n_lines):
    root = shared_data / "amfmn" / "data" / f"{name}_precomp"
    reader = get_reader("precomp")(root)
    assert reader.splits == ["test"] and reader.source == name
    items = reader.items()
    assert len(items) == n_lines // 5
    assert all(len(it[4]) == 5 for it in items)
    caps = (root / "test_caps.txt").read_text().splitlines()
    names = (root / "test_filename.txt").read_text().splitlines()
    # Captions stay in file order and with their own image.
    first = items[0]
    assert first[2] == names[0] and list(first[4]) == caps[:5]
    last = items[-1]
    assert last[2] == names[-1] and list(last[4]) == caps[-5:]
    # No images ship with the precomp files: each read names the missing image and its line.
    if name == "rsicd":
        assert caps[0] == "the airport is very large ."
        (root_copy := tmp_path / "rsicd_precomp").mkdir()
        for f in ("test_caps.txt", "test_filename.txt"):
            shutil.copy(root / f, root_copy / f)
        write_image(root_copy / "images" / first[2])
        assert get_reader("precomp")(root_copy).read(first).captions[0] == "the airport is very large."
    with pytest.raises(BadInput, match=f"image {first[2]} not found") as e:
        reader.read(first)
    assert e.value.line == 1 and e.value.path.name == "test_filename.txt"


def _precomp(root, groups, split="test"):
    root.mkdir(parents=True, exist_ok=True)
    caps, names = [], []
    for name, captions in groups:
        caps += captions
        names += [name] * len(captions)
    (root / f"{split}_caps.txt").write_text("\n".join(caps) + "\n")
    (root / f"{split}_filename.txt").write_text("\n".join(names) + "\n")


def test_reads_samples_with_images(tmp_path):
    root = tmp_path / "rsitmd_precomp"
    _precomp(
        root,
        [
            ("boat_0.tif", [f"boat caption {i}" for i in range(5)]),
            ("port_3.tif", [f"port caption {i}" for i in range(5)]),
        ],
    )
    _precomp(root, [("beach_1.tif", [f"beach {i}" for i in range(5)])], split="train")
    for name in ("boat_0.tif", "port_3.tif", "beach_1.tif"):
        write_image(root / "images" / name)
    reader = get_reader("precomp")(root)
    assert reader.splits == ["train", "test"]
    samples = [reader.read(it) for it in reader.items()]
    assert [(s.image_id, s.split) for s in samples] == [
        ("rsitmd/beach_1", "train"),
        ("rsitmd/boat_0", "test"),
        ("rsitmd/port_3", "test"),
    ]
    assert samples[2].captions == [f"port caption {i}" for i in range(5)]
    assert samples[2].image_path == root / "images" / "port_3.tif" and samples[2].source == "rsitmd"
    only_test = get_reader("precomp")(root, splits="test", source="mine")
    assert [s.image_id for s in map(only_test.read, only_test.items())] == ["mine/boat_0", "mine/port_3"]


def test_image_dir_option(tmp_path):
    root = tmp_path / "ucm_precomp"
    _precomp(root, [("91.tif", ["a", "b", "c", "d", "e"])])
    write_image(tmp_path / "UCM" / "imgs" / "91.tif")
    reader = get_reader("precomp")(root, image_dir=str(tmp_path / "UCM" / "imgs"))
    assert reader.read(reader.items()[0]).image_path == tmp_path / "UCM" / "imgs" / "91.tif"
    with pytest.raises(BadInput, match="not a directory"):
        get_reader("precomp")(root, image_dir="nowhere")


def test_misaligned_files_are_bad_input(tmp_path):
    _precomp(tmp_path, [("a.jpg", list("abcde"))])
    (tmp_path / "test_caps.txt").write_text("\n".join("abcd") + "\n")
    with pytest.raises(BadInput, match="has 4 lines but test_filename.txt has 5"):
        group_captions(tmp_path / "test_caps.txt", tmp_path / "test_filename.txt")


def test_wrong_caption_count_and_repeats_are_bad_input(tmp_path):
    _precomp(tmp_path, [("a.jpg", list("abcde")), ("b.jpg", list("abcd"))])
    with pytest.raises(BadInput, match="b.jpg has 4 captions, expected 5") as e:
        get_reader("precomp")(tmp_path).items()
    assert e.value.line == 6
    assert len(get_reader("precomp")(tmp_path, captions_per_image=None).items()) == 2
    _precomp(tmp_path, [("a.jpg", list("abcde")), ("b.jpg", list("abcde")), ("a.jpg", list("fghij"))])
    with pytest.raises(BadInput, match="appears again") as e:
        get_reader("precomp")(tmp_path).items()
    assert e.value.line == 11


def test_empty_caption_and_missing_pair_are_bad_input(tmp_path):
    _precomp(tmp_path, [("a.jpg", ["x", "y", "", "z", "w"])])
    with pytest.raises(BadInput, match="empty caption") as e:
        get_reader("precomp")(tmp_path).items()
    assert e.value.line == 3
    shutil.rmtree(tmp_path)
    tmp_path.mkdir()
    with pytest.raises(BadInput, match="no <split>_caps.txt"):
        get_reader("precomp")(tmp_path)
    (tmp_path / "test_caps.txt").write_text("x\n")
    with pytest.raises(BadInput, match="missing") as e:
        get_reader("precomp")(tmp_path)
    assert e.value.path.name == "test_filename.txt"


def test_rs_synth_precomp_output(tmp_path):
    from rs_synth.registry import FORMATS

    truth = FORMATS["rsitmd"].write(tmp_path / "rsitmd", 20, seed=1, size=32)
    reader = get_reader("precomp")(tmp_path / "rsitmd" / "rsitmd_precomp", image_dir="../images")
    samples = [reader.read(it) for it in reader.items()]
    assert reader.source == "rsitmd" and len(samples) == 20
    by_file = {s.image_path.name: s for s in samples}
    for im in truth.images:
        s = by_file[im.image.split("/")[-1]]
        assert s.captions == im.captions and s.split == im.split and s.image_path.is_file()
