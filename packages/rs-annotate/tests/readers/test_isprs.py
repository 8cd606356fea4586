from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rs_annotate.readers import BadInput, Box, get_reader
from rs_annotate.readers.isprs import (
    ISPRS_CLASSES,
    ISPRS_PALETTE,
    PotsdamReader,
    VaihingenReader,
    parse_isprs,
)
from rs_synth.writers import segmentation as synth


def test_registered():
    assert get_reader("potsdam") is PotsdamReader and get_reader("vaihingen") is VaihingenReader


@pytest.fixture(scope="module")
def potsdam(tmp_path_factory):
    root = tmp_path_factory.mktemp("p") / "potsdam"
    return root, synth.write_potsdam(root, n=2, seed=4, size=64)


def test_rs_synth_potsdam_variants(potsdam):
    root, truth = potsdam
    assert synth.ISPRS_PALETTE == ISPRS_PALETTE
    results = {}
    for variant in ("RGB", "IRRG", "RGBIR"):
        reader = PotsdamReader(root, variant=variant)
        samples = [reader.read(item) for item in reader.items()]
        assert [s.image_path.relative_to(root).as_posix() for s in samples] == \
            [im.meta["variants"][variant] for im in truth.images]
        results[variant] = samples
    for s, im in zip(results["RGB"], truth.images):
        assert s.image is None and s.size == (64, 64) and s.meta["bands"] == "RGB"
        present = {ISPRS_CLASSES[int(k)] for k in im.meta["pixels_per_class"]} - {"clutter"}
        assert {b.label for b in s.boxes} == present and present
    # Same labels whatever the variant; RGBIR hands the pipeline its first three bands (true colour).
    for variant in ("IRRG", "RGBIR"):
        assert [s.boxes for s in results[variant]] == [s.boxes for s in results["RGB"]]
    for s in results["RGBIR"]:
        rgb = np.asarray(Image.open(s.image_path.parents[1] / "2_Ortho_RGB" /
                                    s.image_path.name.replace("_RGBIR", "_RGB")))
        assert s.image.shape == (64, 64, 3) and np.array_equal(s.image, rgb)


def test_ignore_option(potsdam):
    root, _ = potsdam
    reader = PotsdamReader(root, ignore=("clutter", "impervious surface"))
    labels = {b.label for s in map(reader.read, reader.items()) for b in s.boxes}
    assert "impervious surface" not in labels and "clutter" not in labels
    as_cli = PotsdamReader(root, ignore="clutter,impervious surface")  # --opt ignore=clutter,impervious surface
    assert {b.label for s in map(as_cli.read, as_cli.items()) for b in s.boxes} == labels
    keep_all = PotsdamReader(root, ignore=())
    assert "clutter" in {b.label for s in map(keep_all.read, keep_all.items()) for b in s.boxes}
    with pytest.raises(ValueError, match="unknown ISPRS class"):
        PotsdamReader(root, ignore=("background",)).read(reader.items()[0])
    with pytest.raises(ValueError, match="variant must be one of"):
        PotsdamReader(root, variant="NIR").items()


def test_rs_synth_vaihingen(tmp_path):
    truth = synth.write_vaihingen(tmp_path / "v", n=2, seed=1, size=48)
    reader = VaihingenReader(tmp_path / "v")
    samples = [reader.read(item) for item in reader.items()]
    assert [s.image_path.relative_to(tmp_path / "v").as_posix() for s in samples] == [im.image for im in truth.images]
    assert samples[0].image_id == "vaihingen/top_mosaic_09cm_area1" and samples[0].meta["bands"] == "IRRG"
    for s, im in zip(samples, truth.images):
        assert {b.label for b in s.boxes} == {ISPRS_CLASSES[int(k)] for k in im.meta["pixels_per_class"]} - {"clutter"}


def write_label(path: Path, rgb: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path)
    return path


def label_tile() -> np.ndarray:
    rgb = np.full((12, 16, 3), 255, np.uint8)  # impervious surface everywhere
    rgb[2:4, 2:6] = (0, 0, 255)  # building
    rgb[8:10, 10:12] = (255, 255, 0)  # car
    rgb[0:2, 14:16] = (255, 0, 0)  # clutter
    return rgb


def test_parse_boxes_and_boundary(tmp_path):
    rgb = label_tile()
    rgb[6, :] = 0  # the eroded labels' black boundary band: ignored, and it splits the surface in two
    boxes = parse_isprs(write_label(tmp_path / "t_label_noBoundary.tif", rgb))
    assert Box("building", 2, 2, 6, 4) in boxes and Box("car", 10, 8, 12, 10) in boxes
    assert [b for b in boxes if b.label == "impervious surface"] == [
        Box("impervious surface", 0, 0, 16, 6), Box("impervious surface", 0, 7, 16, 12)]
    assert not any(b.label == "clutter" for b in boxes)


def test_unknown_colour_and_tolerance(tmp_path):
    rgb = label_tile()
    rgb[5, 5] = (250, 252, 255)  # a near-white pixel, as lossy compression leaves
    path = write_label(tmp_path / "t_label.tif", rgb)
    with pytest.raises(BadInput, match=r"1 pixel\(s\) have colours not in the palette: \(250, 252, 255\)"):
        parse_isprs(path)
    assert Box("building", 2, 2, 6, 4) in parse_isprs(path, tolerance=8)


def make_potsdam(root: Path, label_size=(16, 12), image_size=(16, 12)) -> Path:
    rgb = np.zeros((label_size[1], label_size[0], 3), np.uint8)
    rgb[...] = 255
    write_label(root / "5_Labels_all" / "top_potsdam_2_10_label.tif", rgb)
    (root / "2_Ortho_RGB").mkdir(parents=True)
    Image.new("RGB", image_size).save(root / "2_Ortho_RGB" / "top_potsdam_2_10_RGB.tif")
    return root


def test_size_mismatch_and_missing_files(tmp_path):
    reader = PotsdamReader(make_potsdam(tmp_path / "a", image_size=(16, 13)))
    with pytest.raises(BadInput, match="mask is 16x12 but the image is 16x13") as e:
        reader.read(reader.items()[0])
    assert e.value.path.name == "top_potsdam_2_10_label.tif"
    root = make_potsdam(tmp_path / "b")
    Image.new("RGB", (16, 12)).save(root / "2_Ortho_RGB" / "top_potsdam_3_10_RGB.tif")
    (root / "5_Labels_all" / "top_potsdam_2_10_label.tif").rename(root / "5_Labels_all" / "top_potsdam_2_11_label.tif")
    reader = PotsdamReader(root)
    items = reader.items()
    assert [i[0] for i in items] == ["top_potsdam_2_10", "top_potsdam_2_11", "top_potsdam_3_10"]
    with pytest.raises(BadInput, match="image has no label tile"):
        reader.read(items[0])
    with pytest.raises(BadInput, match="label tile has no image 2_Ortho_RGB/top_potsdam_2_11_RGB.tif"):
        reader.read(items[1])
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInput, match="no label folder"):
        PotsdamReader(tmp_path / "empty").items()
