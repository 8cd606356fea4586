import numpy as np
import pytest

from rs_synth import Placement, counting_scene, render_scene, sample_scene
from rs_synth.classes import DOTA_V1, REMOTECOUNT
from rs_synth.scenes import CLASS_SCALE
from rs_synth.shapes import SHAPES


@pytest.mark.parametrize("cls", sorted(SHAPES))
def test_shapes_stay_in_the_unit_square(cls):
    parts = SHAPES[cls](np.random.default_rng(0))
    pts = np.concatenate([p.pts for p in parts])
    assert np.abs(pts).max() <= 0.5 + 0.03, cls
    assert any(p.mask for p in parts)
    assert cls in CLASS_SCALE


def test_render_scene_places_exactly_what_it_is_given():
    ps = [Placement("plane", 40, 40, 40, 30), Placement("storage tank", 100, 90, 30, 0)]
    s = render_scene(np.random.default_rng(1), 128, "grass", ps)
    assert s.image.shape == (128, 128, 3) and s.image.dtype == np.uint8
    assert [o.cls for o in s.objects] == ["plane", "storage tank"]
    tank = s.objects[1]
    assert tank.box == pytest.approx((85, 75, 115, 105), abs=1.0)
    # The instance map marks each object's own pixels, inside its box.
    for o in s.objects:
        ys, xs = np.nonzero(s.instance_map == o.instance_id)
        assert len(xs) > 50
        assert xs.min() >= o.box[0] - 1 and xs.max() <= o.box[2] + 1
        assert ys.min() >= o.box[1] - 1 and ys.max() <= o.box[3] + 1
    # Tank pixels: a light disc with a dark ring.
    assert s.image[90, 108].mean() > 150  # light roof
    assert s.image[90, 112].mean() < 100  # dark ring at 0.4 of the 30 px size


def test_sampled_objects_are_inside_the_image_and_on_the_right_surface():
    for seed in range(40):
        s = sample_scene(np.random.default_rng(seed), 160, set(DOTA_V1))
        assert s.objects, seed
        for o in s.objects:
            poly = np.array(o.poly)
            assert (poly >= 0).all() and (poly[:, 0] <= 160).all() and (poly[:, 1] <= 160).all()
            if o.cls == "ship":
                assert s.water_mask[int(o.center[1]), int(o.center[0])]
            if o.cls in ("plane", "storage tank", "tennis court"):
                assert not s.water_mask[int(o.center[1]), int(o.center[0])]


@pytest.mark.parametrize("count", [1, 5, 10])
def test_counting_scene_objects_are_separated(count):
    for cls in REMOTECOUNT:
        s = counting_scene(np.random.default_rng(count), 128, cls, count)
        assert len(s.objects) == count
        ids = set(np.unique(s.instance_map)) - {0}
        assert ids == set(range(1, count + 1)), cls  # every object visible
        boxes = [o.box for o in s.objects]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (cls, a, b)


def test_counting_rejects_impossible_counts():
    with pytest.raises(ValueError, match="count must be"):
        counting_scene(np.random.default_rng(0), 64, "plane", 17)
