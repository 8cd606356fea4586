import json
from collections import Counter
from pathlib import Path

import pytest

from rs_annotate.readers import BadInput, get_reader
from rs_annotate.readers.ret3 import Ret3Reader, clean_caption, fit_captions
from rs_synth.writers import captions as synth


def test_registered():
    assert get_reader("ret3") is Ret3Reader


def test_clean_caption():
    assert (
        clean_caption("A residential area with houses arranged neatly .")
        == "A residential area with houses arranged neatly."
    )
    assert (
        clean_caption("  many white buildings  while a river , passed by . ")
        == "many white buildings while a river, passed by."
    )
    assert clean_caption("Two planes.") == "Two planes."


def test_fit_captions():
    assert fit_captions(["a", "b", "c", "d", "e", "f"], 5) == ["a", "b", "c", "d", "e"]
    assert fit_captions(["a", "b"], 5) == ["a", "b", "a", "b", "a"]
    assert fit_captions(["a", "b"], None) == ["a", "b"]


def test_real_sydney_without_images(shared_data):
    reader = Ret3Reader(shared_data / "sydney_captions")
    items = reader.items()
    assert len(items) == 613
    # The sample ships no images: each entry is a BadInput naming the missing image and the JSON entry.
    with pytest.raises(BadInput, match=r"dataset_sydney_modified.json images\[0\] does not exist") as e:
        reader.read(items[0])
    assert e.value.path.name == "1.tif"


def test_real_sydney_captions_only(shared_data):
    reader = Ret3Reader(shared_data / "sydney_captions", require_images=False)
    samples = [reader.read(item) for item in reader.items()]
    assert Counter(s.split for s in samples) == {"train": 497, "val": 58, "test": 58}
    s = samples[0]
    assert s.image_id == "sydney/1" and s.source == "sydney" and s.image_path.name == "1.tif"
    assert s.captions[0] == "A residential area with houses arranged neatly."
    assert s.meta == {"file": "data/captions/dataset_sydney_modified.json", "index": 0, "n_captions": 5}
    assert all(len(s.captions) == 5 for s in samples)
    assert not any(" ." in c or "  " in c for s in samples for c in s.captions)
    assert "An industrial area with many white buildings while a river passed by." in {
        c for s in samples for c in s.captions
    }
    assert len({s.image_id for s in samples}) == 613


def test_real_sydney_split_filter(shared_data):
    reader = Ret3Reader(shared_data / "sydney_captions", require_images=False, splits="test")
    samples = [reader.read(item) for item in reader.items()]
    assert len(samples) == 58 and {s.split for s in samples} == {"test"}


@pytest.mark.parametrize("flavour", ["rsicd", "ucm"])
def test_rs_synth_caption_json(tmp_path, flavour):
    truth = synth.write(tmp_path / flavour, n=8, seed=2, size=64, flavour=flavour)
    reader = Ret3Reader(tmp_path / flavour, splits=sorted({im.split for im in truth.images}))
    samples = [reader.read(item) for item in reader.items()]
    assert len(samples) == 8
    for s, im in zip(samples, truth.images):
        assert s.image_path == tmp_path / flavour / im.image and s.image_path.is_file()
        assert s.split == im.split and s.source == flavour
        assert s.captions == [clean_caption(c) for c in im.captions]
    train = Ret3Reader(tmp_path / flavour, splits=["train"])
    assert len(train.items()) == sum(im.split == "train" for im in truth.images)


def write_json(root: Path, images, name="dataset_x.json", **extra) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(json.dumps({"images": images, "dataset": "X", **extra}))
    (root / "images").mkdir(exist_ok=True)
    for im in images:
        if isinstance(im, dict) and isinstance(im.get("filename"), str):
            (root / "images" / im["filename"]).write_bytes(b"x")
    return root


def entry(name="a.jpg", split="train", raws=("one .", "two .")):
    return {"filename": name, "split": split, "sentences": [{"raw": r} for r in raws]}


def test_fewer_captions_are_cycled(tmp_path):
    reader = Ret3Reader(write_json(tmp_path, [entry()]))
    s = reader.read(reader.items()[0])
    assert s.image_id == "x/a" and s.captions == ["one.", "two.", "one.", "two.", "one."]
    assert s.meta["n_captions"] == 2
    keep = Ret3Reader(tmp_path, n_captions=None)
    assert keep.read(keep.items()[0]).captions == ["one.", "two."]


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"split": "train", "sentences": [{"raw": "a"}]}, r"images\[1\]: missing key 'filename'"),
        ({"filename": "b.jpg", "sentences": [{"raw": "a"}]}, r"images\[1\]: missing key 'split'"),
        ({"filename": "b.jpg", "split": "train"}, r"images\[1\]: missing key 'sentences'"),
        (
            {"filename": "b.jpg", "split": "train", "sentences": []},
            r"images\[1\] \(b.jpg\): 'sentences' is empty",
        ),
        (
            {"filename": "b.jpg", "split": "train", "sentences": [{"tokens": ["a"]}]},
            r"sentences\[0\] has no 'raw'",
        ),
        ({"filename": "b.jpg", "split": "train", "sentences": [{"raw": " . "}]}, r"sentences\[0\] is empty"),
        ("b.jpg", r"images\[1\] is not an object"),
    ],
)
def test_missing_keys(tmp_path, bad, message):
    reader = Ret3Reader(write_json(tmp_path, [entry(), bad]), splits=["train"])
    items = reader.items()
    assert len(items) == 2  # a broken entry is reported, never filtered away
    reader.read(items[0])
    with pytest.raises(BadInput, match=message) as e:
        reader.read(items[1])
    assert e.value.path.name == "dataset_x.json"


def test_missing_image(tmp_path):
    write_json(tmp_path, [entry("a.jpg"), entry("b.jpg")])
    (tmp_path / "images" / "b.jpg").unlink()
    reader = Ret3Reader(tmp_path)
    with pytest.raises(BadInput, match=r"dataset_x.json images\[1\] does not exist"):
        reader.read(reader.items()[1])


def test_broken_files(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInput, match="no caption JSON"):
        Ret3Reader(tmp_path / "empty").items()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "dataset_bad.json").write_text('{"images": [\n  {"filename": "a.jpg",,}\n]}')
    with pytest.raises(BadInput, match="not valid JSON") as e:
        Ret3Reader(bad).items()
    assert e.value.line == 2
    (bad / "dataset_bad.json").write_text('{"imgs": []}')
    with pytest.raises(BadInput, match="missing key 'images'"):
        Ret3Reader(bad).items()
    (bad / "dataset_other.json").write_text('{"images": []}')
    with pytest.raises(BadInput, match="several caption JSON files"):
        Ret3Reader(bad).items()
    assert Ret3Reader(bad, json="dataset_other.json").items() == []
    with pytest.raises(BadInput, match="caption JSON not found"):
        Ret3Reader(bad, json="nope.json").items()
