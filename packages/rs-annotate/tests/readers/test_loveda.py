from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rs_annotate.m2b import mask_to_boxes
from rs_annotate.readers import BadInput, Box, get_reader
from rs_annotate.readers.loveda import LOVEDA_LABELS, LovedaReader
from rs_synth.writers import segmentation as synth


def test_registered():
    assert get_reader("loveda") is LovedaReader


def test_rs_synth_loveda(tmp_path):
    truth = synth.write_loveda(tmp_path / "loveda", n=4, seed=0, size=96)
    reader = LovedaReader(tmp_path / "loveda")
    samples = {
        s.image_path.relative_to(tmp_path / "loveda").as_posix(): s for s in map(reader.read, reader.items())
    }
    assert sorted(samples) == sorted(im.image for im in truth.images)
    for im in truth.images:
        s = samples[im.image]
        assert s.split == im.split and s.size == (96, 96) and s.meta["domain"] == im.theme
        # Every class present in the mask (other than no-data and background) yields at least one box,
        # and no box has a class the mask does not hold.
        present = {LOVEDA_LABELS[int(k)] for k in im.meta["pixels_per_class"] if int(k) >= 2}
        assert {b.label for b in s.boxes} == present
        mask = np.asarray(Image.open(tmp_path / "loveda" / im.labels[0]))
        for b in s.boxes:
            code = next(k for k, v in LOVEDA_LABELS.items() if v == b.label)
            region = mask[int(b.y0) : int(b.y1), int(b.x0) : int(b.x1)] == code
            # Box edges are tight: the first and last row and column of the box hold the class.
            assert region[0].any() and region[-1].any() and region[:, 0].any() and region[:, -1].any()
    train_only = LovedaReader(tmp_path / "loveda", splits="Train")  # as --opt splits=Train passes it
    assert len(train_only.items()) == sum(im.split == "train" for im in truth.images)
    with_bg = LovedaReader(tmp_path / "loveda", keep_background=True)
    assert any(b.label == "background" for b in with_bg.read(with_bg.items()[0]).boxes)


def write_tile(root: Path, mask: np.ndarray, image_size=None, split="Train", domain="Urban") -> Path:
    base = root / split / domain
    (base / "images_png").mkdir(parents=True)
    (base / "masks_png").mkdir()
    h, w = mask.shape[:2]
    Image.new("RGB", image_size or (w, h)).save(base / "images_png" / "7.png")
    Image.fromarray(mask).save(base / "masks_png" / "7.png")
    return root


def test_regions_no_data_and_background(tmp_path):
    mask = np.ones((16, 16), np.uint8)
    mask[:, :2] = 0  # no-data strip
    mask[2:5, 3:6] = 2
    mask[10:12, 10:15] = 2
    mask[8, 8] = 4
    reader = LovedaReader(write_tile(tmp_path, mask))
    s = reader.read(reader.items()[0])
    assert s.image_id == "loveda/train/urban/7" and s.split == "train"
    assert s.boxes == [Box("building", 3, 2, 6, 5), Box("building", 10, 10, 15, 12), Box("water", 8, 8, 9, 9)]
    assert s.boxes == mask_to_boxes(mask, {2: "building", 4: "water"}, ignore=(0, 1))
    assert [b.label for b in LovedaReader(tmp_path, min_area=2).read(reader.items()[0]).boxes] == [
        "building"
    ] * 2


def test_bad_masks(tmp_path):
    mask = np.full((8, 10), 2, np.uint8)
    reader = LovedaReader(write_tile(tmp_path / "a", mask, image_size=(10, 9)))
    with pytest.raises(BadInput, match="mask is 10x8 but the image is 10x9") as e:
        reader.read(reader.items()[0])
    assert e.value.path.name == "7.png" and e.value.path.parent.name == "masks_png"
    mask[0, 0] = 9
    reader = LovedaReader(write_tile(tmp_path / "b", mask))
    with pytest.raises(BadInput, match=r"class value\(s\) \[9\]"):
        reader.read(reader.items()[0])
    reader = LovedaReader(write_tile(tmp_path / "c", np.zeros((8, 10, 3), np.uint8)))
    with pytest.raises(BadInput, match="single-channel index mask"):
        reader.read(reader.items()[0])
    (tmp_path / "c" / "Train" / "Urban" / "masks_png" / "7.png").unlink()
    with pytest.raises(BadInput, match="image has no mask"):
        reader.read(reader.items()[0])
    (tmp_path / "c" / "Train" / "Urban" / "masks_png" / "7.png").write_bytes(b"not a png")
    with pytest.raises(BadInput, match="cannot decode"):
        reader.read(reader.items()[0])
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInput, match="no images"):
        LovedaReader(tmp_path / "empty").items()
