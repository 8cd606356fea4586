import numpy as np
import pytest

from rs_annotate.m2b import decode_rgb_mask, instance_mask_to_boxes, mask_to_boxes
from rs_annotate.types import BadInput, Box

LABELS = {1: "building", 2: "tree"}


def coords(boxes):
    return [(b.label, b.x0, b.y0, b.x1, b.y1) for b in boxes]


def test_two_blobs_of_one_class_give_two_boxes():
    m = np.zeros((10, 12), np.uint8)
    m[1:3, 1:4] = 1
    m[6:9, 7:11] = 1
    assert coords(mask_to_boxes(m, LABELS, ignore=[0])) == [
        ("building", 1, 1, 4, 3),
        ("building", 7, 6, 11, 9),
    ]


def test_blob_touching_the_border_reaches_the_image_edge():
    m = np.zeros((8, 8), np.uint8)
    m[5:, 6:] = 2
    m[0, 0] = 1
    assert coords(mask_to_boxes(m, LABELS, ignore=[0])) == [("building", 0, 0, 1, 1), ("tree", 6, 5, 8, 8)]


def test_ring_with_a_hole_is_one_box():
    m = np.zeros((10, 10), np.uint8)
    m[2:8, 2:8] = 1
    m[4:6, 4:6] = 0
    assert coords(mask_to_boxes(m, LABELS, ignore=[0])) == [("building", 2, 2, 8, 8)]


def test_hole_filled_with_another_class_does_not_split_the_ring():
    m = np.zeros((10, 10), np.uint8)
    m[2:8, 2:8] = 1
    m[4:6, 4:6] = 2
    assert coords(mask_to_boxes(m, LABELS, ignore=[0])) == [("building", 2, 2, 8, 8), ("tree", 4, 4, 6, 6)]


def test_empty_mask_gives_no_boxes():
    assert mask_to_boxes(np.zeros((5, 5), np.int32), LABELS, ignore=[0]) == []


def test_background_value_without_label_must_be_ignored_explicitly():
    m = np.zeros((5, 5), np.int32)
    m[1, 1] = 1
    with pytest.raises(BadInput, match=r"scene\.png: .*\[0\] \(24 pixels\)"):
        mask_to_boxes(m, LABELS, path="scene.png")


def test_min_area_counts_region_pixels():
    m = np.zeros((10, 10), np.uint8)
    m[0:2, 0:2] = 1  # 4 pixels
    m[5:8, 5:8] = 1  # 9 pixels
    assert coords(mask_to_boxes(m, LABELS, ignore=[0], min_area=5)) == [("building", 5, 5, 8, 8)]
    assert len(mask_to_boxes(m, LABELS, ignore=[0], min_area=4)) == 2


def test_ignored_classes_give_no_boxes():
    m = np.zeros((6, 6), np.uint8)
    m[0:2, 0:2] = 1
    m[3:5, 3:5] = 2
    m[5, 0] = 6  # clutter
    boxes = mask_to_boxes(m, LABELS, ignore=[0, 2, 6])
    assert coords(boxes) == [("building", 0, 0, 2, 2)]


def test_connectivity_4_vs_8_on_diagonal_pixels():
    m = np.zeros((4, 4), np.uint8)
    m[0, 0] = m[1, 1] = m[2, 2] = 1
    assert coords(mask_to_boxes(m, LABELS, ignore=[0], connectivity=8)) == [("building", 0, 0, 3, 3)]
    assert coords(mask_to_boxes(m, LABELS, ignore=[0], connectivity=4)) == [
        ("building", 0, 0, 1, 1),
        ("building", 1, 1, 2, 2),
        ("building", 2, 2, 3, 3),
    ]
    with pytest.raises(ValueError):
        mask_to_boxes(m, LABELS, connectivity=6)


def test_mask_shape_is_checked():
    with pytest.raises(BadInput, match="2-D"):
        mask_to_boxes(np.zeros((4, 4, 3), np.uint8), LABELS, path="x.png")


def test_instances_one_box_each_even_when_split_into_pieces():
    ids = np.zeros((10, 10), np.int32)
    ids[1:3, 1:3] = 5
    ids[7:9, 6:8] = 5  # the same instance, drawn in two pieces
    ids[4:6, 0:10] = 9
    boxes = instance_mask_to_boxes(ids, {5: "ship", 9: "bridge"})
    assert boxes == [Box("ship", 1, 1, 8, 9), Box("bridge", 0, 4, 10, 6)]


def test_instances_min_area_ignore_and_unknown():
    ids = np.zeros((6, 6), np.int32)
    ids[0, 0] = 3
    ids[2:5, 2:5] = 4
    ids[5, 5] = 255
    assert instance_mask_to_boxes(ids, {3: "a", 4: "b"}, ignore_ids=(0, 255), min_area=2) == [
        Box("b", 2, 2, 5, 5)
    ]
    with pytest.raises(BadInput, match=r"inst\.png: instance id\(s\) \[255\]"):
        instance_mask_to_boxes(ids, {3: "a", 4: "b"}, path="inst.png")
    assert instance_mask_to_boxes(np.zeros((3, 3), np.int32), {}) == []


def test_instance_boxes_match_per_id_brute_force():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 20, size=(40, 50))
    boxes = instance_mask_to_boxes(ids, {i: str(i) for i in range(20)})
    for b in boxes:
        ys, xs = np.nonzero(ids == int(b.label))
        assert (b.x0, b.y0, b.x1, b.y1) == (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    assert len(boxes) == 19


PALETTE = {(255, 255, 255): 0, (0, 0, 255): 1, (0, 255, 0): 3}


def test_decode_rgb_mask_exact_and_tolerant():
    rgb = np.zeros((2, 3, 3), np.uint8)
    rgb[:] = (255, 255, 255)
    rgb[0, 1] = (0, 0, 255)
    rgb[1, 2] = (0, 255, 0)
    idx = decode_rgb_mask(rgb, PALETTE, path="lab.tif")
    assert idx.tolist() == [[0, 1, 0], [0, 0, 3]]
    noisy = rgb.astype(int)
    noisy[0, 1] = (3, 2, 250)
    noisy = noisy.astype(np.uint8)
    with pytest.raises(BadInput):
        decode_rgb_mask(noisy, PALETTE, path="lab.tif")
    assert decode_rgb_mask(noisy, PALETTE, path="lab.tif", tolerance=5).tolist() == idx.tolist()


def test_decode_rgb_mask_counts_unknown_colours():
    rgb = np.full((4, 4, 3), 255, np.uint8)
    rgb[0, :2] = (1, 2, 3)
    rgb[3, 3] = (9, 9, 9)
    with pytest.raises(BadInput, match=r"top_mosaic\.tif: 3 pixel\(s\) .*\(1, 2, 3\), \(9, 9, 9\)"):
        decode_rgb_mask(rgb, PALETTE, path="top_mosaic.tif")
    with pytest.raises(BadInput, match="H x W x 3"):
        decode_rgb_mask(np.zeros((4, 4), np.uint8), PALETTE, path="a.png")


def test_isaid_boxes_are_class_regions_by_default_and_instances_by_option(tmp_path):
    from PIL import Image

    from rs_annotate.readers import get_reader
    from rs_annotate.readers.isaid import ISAID_CLASSES, ISAID_PALETTE

    car, ship = (
        ISAID_PALETTE[ISAID_CLASSES.index("Small_Vehicle")],
        ISAID_PALETTE[ISAID_CLASSES.index("ship")],
    )
    color, ids = np.zeros((20, 30, 3), np.uint8), np.zeros((20, 30, 3), np.uint8)
    color[2:6, 2:6], ids[2:6, 2:6, 0] = car, 1  # two cars side by side: one region, two instances
    color[2:6, 6:10], ids[2:6, 6:10, 0] = car, 2
    color[10:14, 2:5], ids[10:14, 2:5, 0] = ship, 3  # one ship drawn in two pieces: two regions
    color[10:14, 20:25], ids[10:14, 20:25, 0] = ship, 3
    images = tmp_path / "train" / "images"
    images.mkdir(parents=True)
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(images / "P1.png")
    Image.fromarray(color).save(images / "P1_instance_color_RGB.png")
    Image.fromarray(ids).save(images / "P1_instance_id_RGB.png")

    def boxes(**opts):
        reader = get_reader("isaid")(tmp_path, **opts)
        return sorted(coords(reader.read(reader.items()[0]).boxes))

    assert boxes() == [("ship", 2, 10, 5, 14), ("ship", 20, 10, 25, 14), ("small vehicle", 2, 2, 10, 6)]
    assert boxes(boxes="instances") == [
        ("ship", 2, 10, 25, 14),
        ("small vehicle", 2, 2, 6, 6),
        ("small vehicle", 6, 2, 10, 6),
    ]
