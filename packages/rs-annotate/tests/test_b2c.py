import re
from collections import Counter

import pytest

from rs_annotate.b2c import B2CConfig, boxes_to_captions, in_center, phrase
from rs_annotate.types import Box


def box(label, cx, cy, s=4):
    return Box(label, cx - s / 2, cy - s / 2, cx + s / 2, cy + s / 2)


NO_MANY = B2CConfig(many_prob=0.0)


def test_middle_and_edge_captions_with_number_words_and_plurals():
    boxes = [
        box("plane", 50, 50),
        box("plane", 40, 60),
        box("plane", 60, 45),
        box("ship", 55, 55),
        box("storage-tank", 5, 5),
        box("storage-tank", 95, 5),
        box("harbor", 5, 95),
    ]
    caps = boxes_to_captions(boxes, 100, 100, "dota/P1", NO_MANY)
    assert len(caps) == 5
    assert caps[0] == "There are three planes and one ship in the middle of the picture."
    assert caps[1] == "There are two storage tanks and one harbor in the edge of the picture."
    for c in caps[2:]:
        assert c.endswith(" in this image.")


def test_singular_verb_and_irregular_plurals():
    # The words are rs_formats.wording's (its tests cover the nouns); here: B2C's sentences use them.
    cfg = NO_MANY
    assert boxes_to_captions([box("airplane", 50, 50)], 100, 100, "a", cfg)[0] == (
        "There is one airplane in the middle of the picture."
    )
    caps = boxes_to_captions(
        [box("bus", 50, 50), box("bus", 52, 50), box("ground-track-field", 48, 50)], 100, 100, "b", cfg
    )
    assert caps[0] == "There are two buses and one ground track field in the middle of the picture."
    caps = boxes_to_captions(
        [
            box("people", 50, 50),
            box("ferry", 5, 5),
            box("ferry", 95, 5),
            box("aircraft", 5, 95),
            box("aircraft", 95, 95),
            box("person", 95, 50),
        ],
        100,
        100,
        "c",
        cfg,
    )
    assert caps[0] == "There is one person in the middle of the picture."
    assert caps[1] == "There are two aircraft, two ferries and one person in the edge of the picture."
    caps = boxes_to_captions([box("person", 50, 50)] * 23, 100, 100, "d", cfg)
    assert caps[0] == "There are twenty-three people in the middle of the picture."
    assert phrase("Small_vehicle") == "small vehicle" and phrase("small-vehicle") == "small vehicle"


def test_counts_over_ten_become_many_at_the_configured_rate():
    boxes = [box("small vehicle", 50, 50, 1) for _ in range(11)] + [box("ship", 50, 50) for _ in range(10)]
    many = 0
    n = 400
    for i in range(n):
        first = boxes_to_captions(boxes, 100, 100, f"img{i}", B2CConfig(many_prob=0.9))[0]
        assert "ten ships" in first  # ten is never replaced
        if re.search(r"(many|a lot of) small vehicles", first):
            many += 1
        else:
            assert "eleven small vehicles" in first
    assert 0.85 * n < many < 0.95 * n
    always = B2CConfig(many_prob=1.0)
    assert all("eleven" not in c for c in boxes_to_captions(boxes, 100, 100, "x", always))
    never = B2CConfig(many_prob=0.0)
    assert boxes_to_captions(boxes, 100, 100, "x", never)[0] == (
        "There are eleven small vehicles and ten ships in the middle of the picture."
    )


def test_nothing_in_the_middle_gets_a_random_subset_caption_instead():
    boxes = [box("plane", 5, 5), box("ship", 95, 95)]
    caps = boxes_to_captions(boxes, 100, 100, "e", NO_MANY)
    assert caps[0].endswith(" in this image.")
    assert caps[1] == "There is one plane and one ship in the edge of the picture."
    only_middle = boxes_to_captions([box("ship", 50, 50)], 100, 100, "m", NO_MANY)
    assert only_middle[0] == "There is one ship in the middle of the picture."
    assert only_middle[1] == "There is one ship in this image."


def test_no_objects_gives_no_captions():
    assert boxes_to_captions([], 100, 100, "empty") == []


def test_central_region_is_configurable_and_inclusive():
    b = box("plane", 25, 50)
    assert in_center(b, 100, 100, 0.5)  # exactly on the region's edge
    assert not in_center(box("plane", 24, 50), 100, 100, 0.5)
    assert in_center(box("plane", 24, 50), 100, 100, 0.6)
    assert not in_center(box("plane", 24, 50), 200, 100, 0.5)  # x axis scales with the width
    with pytest.raises(ValueError):
        B2CConfig(center=0)


def test_random_subset_captions_are_true_of_the_image():
    boxes = [box("plane", 10, 10)] * 3 + [box("ship", 90, 90)] * 2 + [box("bridge", 50, 50)]
    for i in range(50):
        for cap in boxes_to_captions(boxes, 100, 100, f"s{i}", NO_MANY)[2:]:
            # every class mentioned is mentioned with its full count
            for word, name in re.findall(r"(one|two|three) (planes?|ships?|bridges?)", cap):
                full = {"plane": "three", "ship": "two", "bridge": "one"}[name.rstrip("s")]
                assert word == full, cap


def test_object_subsets_sample_individual_objects():
    boxes = [box("plane", 10, 10)] * 5
    seen = Counter()
    for i in range(60):
        cap = boxes_to_captions(boxes, 100, 100, f"o{i}", B2CConfig(subset="objects", many_prob=0))[4]
        seen[cap.split()[2]] += 1
    assert set(seen) == {"one", "two", "three", "four", "five"}


def test_deterministic_per_image_and_seed():
    boxes = [box("plane", 10 * i, 7 * i) for i in range(1, 13)] + [box("ship", 50, 50)] * 12
    a = boxes_to_captions(boxes, 100, 100, "dota/P7", B2CConfig(seed=3))
    # other images processed before must not change it (no shared generator state)
    for j in range(5):
        boxes_to_captions(boxes, 100, 100, f"other{j}", B2CConfig(seed=3))
    assert boxes_to_captions(boxes, 100, 100, "dota/P7", B2CConfig(seed=3)) == a
    variants = {tuple(boxes_to_captions(boxes, 100, 100, "dota/P7", B2CConfig(seed=s))) for s in range(10)}
    assert len(variants) > 1


def test_random_captions_avoid_repeats_when_possible():
    boxes = [box("plane", 10, 10), box("ship", 90, 90), box("bridge", 50, 50), box("harbor", 5, 50)]
    for i in range(30):
        caps = boxes_to_captions(boxes, 100, 100, f"v{i}", NO_MANY)
        assert len(set(caps)) == 5, caps


def test_land_cover_classes_are_counted_as_areas():
    boxes = [
        box("water", 50, 50),
        box("water", 45, 50),
        box("low vegetation", 55, 50),
        box("building", 50, 45),
    ]
    assert boxes_to_captions(boxes, 100, 100, "l", NO_MANY)[0] == (
        "There are two water areas, one building and one low vegetation area in the middle of the picture."
    )
