"""The DET readers against files rs_synth writes in each format, compared with its ground truth."""

import pytest

from rs_annotate.readers import get_reader
from rs_annotate.readers.levir import CLASSES as LEVIR_CLASSES
from rs_annotate.readers.visdrone import CATEGORIES as VISDRONE_CATEGORIES


def _write(tmp_path, name, n, size):
    from rs_synth.registry import FORMATS

    return FORMATS[name].write(tmp_path / name, n, seed=3, size=size)


def _close(box, truth_box):
    return all(abs(a - b) <= 1.0 for a, b in zip((box.x0, box.y0, box.x1, box.y1), truth_box))


def _check(samples_by_image, truth, label_of, kept=lambda o: True):
    assert set(samples_by_image) == {im.image for im in truth.images}
    for im in truth.images:
        sample = samples_by_image[im.image]
        want = [o for o in im.objects if kept(o)]
        assert sorted(b.label for b in sample.boxes) == sorted(label_of(o) for o in want)
        unused = list(sample.boxes)
        for o in want:
            match = next((b for b in unused if b.label == label_of(o) and _close(b, o.box)), None)
            assert match is not None, (im.image, o)
            unused.remove(match)


@pytest.mark.parametrize(
    "fmt,n,size", [("levir", 4, 160), ("auair", 4, 192), ("carpk", 3, 192), ("visdrone", 6, 192)]
)
def test_reader_matches_rs_synth_truth(tmp_path, fmt, n, size):
    truth = _write(tmp_path, fmt, n, size)
    root = tmp_path / fmt
    reader = get_reader(fmt)(root)
    samples = [reader.read(it) for it in reader.items()]
    by_image = {s.image_path.relative_to(root).as_posix(): s for s in samples}
    if fmt == "levir":
        _check(by_image, truth, lambda o: LEVIR_CLASSES[int(o.label)])
    elif fmt == "auair":
        names = ["human", "car", "truck", "van", "motorbike", "bicycle", "bus", "trailer"]
        _check(by_image, truth, lambda o: names[int(o.label)])
        assert all(s.size == (im.width, im.height) for s, im in zip(samples, truth.images))
    elif fmt == "carpk":
        _check(by_image, truth, lambda o: "car")
        assert {s.split for s in samples} <= {"train", "test"}
        assert all(by_image[im.image].split == im.split for im in truth.images)
    else:
        names = {**VISDRONE_CATEGORIES, 11: "other object"}  # 'others' is the eleventh class
        _check(by_image, truth, lambda o: names[int(o.label)], kept=lambda o: o.label != "0")
        assert all(by_image[im.image].split == im.split for im in truth.images)
        n_ignored = sum(o.label == "0" for im in truth.images for o in im.objects)
        assert sum(s.meta["dropped"].get("ignored regions", 0) for s in samples) == n_ignored
