from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rs_annotate.classnames import normalize
from rs_annotate.readers import BadInput, Box, get_reader
from rs_annotate.readers.isaid import ISAID_CLASSES, ISAID_PALETTE, IsaidReader
from rs_synth.classes import ISAID_CLASSES as SYNTH_CLASSES
from rs_synth.classes import ISAID_PALETTE as SYNTH_PALETTE
from rs_synth.writers import isaid as synth


def test_registered():
    assert get_reader("isaid") is IsaidReader


def test_real_triplet(shared_data):
    reader = IsaidReader(shared_data / "isaid", boxes="instances")
    (item,) = reader.items()
    s = reader.read(item)
    assert s.image_id == "isaid/P0005" and s.split == "train" and s.size == (884, 977)
    assert s.meta == {"file": "train/images/P0005_instance_id_RGB.png"}
    # 131 instances (ids != 0) in the sample, coloured Large_Vehicle (0,127,127) or Small_Vehicle (0,0,127).
    assert Counter(b.label for b in s.boxes) == {"large vehicle": 99, "small vehicle": 32}
    # Instance 4592855 covers x 404..465, y 739..761 (inclusive pixels): exclusive edges 466, 762.
    assert s.boxes[0] == Box("large vehicle", 404, 739, 466, 762)
    assert all(0 <= b.x0 < b.x1 <= 884 and 0 <= b.y0 < b.y1 <= 977 for b in s.boxes)


def test_rs_synth_isaid(tmp_path):
    assert SYNTH_PALETTE == ISAID_PALETTE
    truth = synth.write(tmp_path / "isaid", n=4, seed=1, size=128)
    reader = IsaidReader(tmp_path / "isaid", boxes="instances")
    samples = {
        s.image_path.relative_to(tmp_path / "isaid").as_posix(): s for s in map(reader.read, reader.items())
    }
    assert sorted(samples) == sorted(im.image for im in truth.images)
    n = 0
    for im in truth.images:
        s = samples[im.image]
        assert s.split == im.split
        visible = sorted((o for o in im.objects if o.meta["pixels"] > 0), key=lambda o: o.instance_id)
        # Same palette index, named as the iSAID devkit names it ("Soccer_ball_field" -> "soccer ball field").
        assert [b.label for b in s.boxes] == [
            normalize(ISAID_CLASSES[SYNTH_CLASSES.index(o.cls)]) for o in visible
        ]
        for b, o in zip(s.boxes, visible):  # the mask box lies within the drawn object's box
            assert (
                o.box[0] - 1 <= b.x0
                and b.x1 <= o.box[2] + 1
                and o.box[1] - 1 <= b.y0
                and b.y1 <= o.box[3] + 1
            )
        n += len(s.boxes)
    assert n > 4


def write_triplet(root: Path, color: np.ndarray, ids: np.ndarray, image_size=None) -> Path:
    d = root / "train" / "images"
    d.mkdir(parents=True)
    h, w = ids.shape
    Image.new("RGB", image_size or (w, h)).save(d / "P1.png")
    Image.fromarray(color.astype(np.uint8)).save(d / "P1_instance_color_RGB.png")
    rgb = np.stack([ids & 255, (ids >> 8) & 255, ids >> 16], -1).astype(np.uint8)
    Image.fromarray(rgb).save(d / "P1_instance_id_RGB.png")
    return root


def masks():
    ids = np.zeros((20, 30), np.int64)
    ids[2:5, 3:9] = 300  # ship, id needs two bytes
    ids[10:12, 20:29] = 7  # plane
    ids[15:18, 1:2] = 7  # the same plane, drawn in two pieces: still one box
    color = np.zeros((20, 30, 3), np.uint8)
    color[ids == 300] = ISAID_PALETTE[1]
    color[ids == 7] = ISAID_PALETTE[14]
    return color, ids


def test_instances_and_release_layout(tmp_path):
    color, ids = masks()
    root = write_triplet(tmp_path, color, ids)
    reader = IsaidReader(root, boxes="instances")
    s = reader.read(reader.items()[0])
    assert s.boxes == [Box("plane", 1, 10, 29, 18), Box("ship", 3, 2, 9, 5)]
    regions = IsaidReader(root)  # by default a box per connected region: the plane's two pieces apart
    assert regions.read(regions.items()[0]).boxes == [
        Box("ship", 3, 2, 9, 5),
        Box("plane", 20, 10, 29, 12),
        Box("plane", 1, 15, 2, 18),
    ]
    # The release keeps masks in Semantic_masks/images and Instance_masks/images.
    for sub, suffix in (("Semantic_masks", "color"), ("Instance_masks", "id")):
        (root / "train" / sub / "images").mkdir(parents=True)
        name = f"P1_instance_{suffix}_RGB.png"
        (root / "train" / "images" / name).rename(root / "train" / sub / "images" / name)
    assert [i[0] for i in IsaidReader(root).items()] == ["P1"]
    assert IsaidReader(root, boxes="instances").read(IsaidReader(root).items()[0]).boxes == s.boxes
    big = IsaidReader(root, min_area=20, boxes="instances")
    assert [b.label for b in big.read(big.items()[0]).boxes] == ["plane"]


def test_unknown_colour(tmp_path):
    color, ids = masks()
    color[0, 0] = (1, 2, 3)
    reader = IsaidReader(write_triplet(tmp_path, color, ids))
    with pytest.raises(BadInput, match=r"1 pixel\(s\) have colours not in the palette: \(1, 2, 3\)") as e:
        reader.read(reader.items()[0])
    assert e.value.path.name == "P1_instance_color_RGB.png"


def test_mask_size_mismatch(tmp_path):
    color, ids = masks()
    reader = IsaidReader(write_triplet(tmp_path, color, ids, image_size=(31, 20)))
    with pytest.raises(BadInput, match="mask is 30x20 but the image is 31x20"):
        reader.read(reader.items()[0])


def test_instance_without_class_and_missing_mask(tmp_path):
    color, ids = masks()
    color[ids == 300] = 0
    reader = IsaidReader(write_triplet(tmp_path / "a", color, ids), boxes="instances")
    with pytest.raises(BadInput, match=r"instance id\(s\) \[300\] are drawn only in the background colour"):
        reader.read(reader.items()[0])
    (tmp_path / "a" / "train" / "images" / "P1_instance_id_RGB.png").unlink()
    with pytest.raises(BadInput, match="image has no mask P1_instance_id_RGB.png"):
        reader.read(reader.items()[0])
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInput, match="no images/ folder"):
        IsaidReader(tmp_path / "empty").items()
