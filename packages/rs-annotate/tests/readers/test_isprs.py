import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rs_annotate import convert
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


FOUR = {"building", "low vegetation", "tree", "car"}  # RemoteCLIP's Potsdam/Vaihingen classes (Fig. 5)


def truth_labels(im, ignore=("clutter", "impervious surface")):
    return {ISPRS_CLASSES[int(k)] for k in im.meta["pixels_per_class"]} - set(ignore)


@pytest.fixture(scope="module")
def potsdam(tmp_path_factory):
    """Potsdam as the archives unpack: image variant folders, 5_Labels_all.zip's label tiles in the root."""
    root = tmp_path_factory.mktemp("p") / "potsdam"
    return root, synth.write_potsdam(root, n=2, seed=4, size=64, layout="release")


def read_all(reader):
    return [reader.read(item) for item in reader.items()]


def test_rs_synth_potsdam_variants(potsdam):
    root, truth = potsdam
    assert synth.ISPRS_PALETTE == ISPRS_PALETTE
    assert sorted(p.name for p in root.glob("*_label.tif")) == [
        f"{Path(im.labels[0]).name}" for im in truth.images
    ]
    results = {}
    for variant in ("RGB", "IRRG", "RGBIR"):
        samples = read_all(PotsdamReader(root, variant=variant))
        assert [s.image_path.relative_to(root).as_posix() for s in samples] == [
            im.meta["variants"][variant] for im in truth.images
        ]
        results[variant] = samples
    for s, im in zip(results["RGB"], truth.images):
        assert s.image is None and s.size == (64, 64) and s.meta["bands"] == "RGB"
        assert s.meta["file"] == im.labels[0]  # the label tile in the root
        assert {b.label for b in s.boxes} == truth_labels(im) and truth_labels(im) <= FOUR
    # Same labels whatever the variant; RGBIR hands the pipeline all four bands, the first three true colour.
    for variant in ("IRRG", "RGBIR"):
        assert [s.boxes for s in results[variant]] == [s.boxes for s in results["RGB"]]
    for s in results["RGBIR"]:
        rgb = np.asarray(
            Image.open(s.image_path.parents[1] / "2_Ortho_RGB" / s.image_path.name.replace("_RGBIR", "_RGB"))
        )
        assert s.image.shape == (64, 64, 4) and np.array_equal(s.image[..., :3], rgb)


def test_potsdam_variant_present_is_detected(tmp_path):
    root = tmp_path / "p"
    truth = synth.write_potsdam(root, n=2, seed=4, size=32, layout="release")
    order = []
    for folder in ("2_Ortho_RGB", "4_Ortho_RGBIR", "3_Ortho_IRRG"):
        order.append({s.meta["bands"] for s in read_all(PotsdamReader(root))})
        shutil.rmtree(root / folder)
    assert order == [{"RGB"}, {"RGBIR"}, {"IRRG"}]  # RGB first, then true colour from RGBIR, then IRRG
    with pytest.raises(BadInput, match=r"no image tiles \(2_Ortho_RGB/\*_RGB.tif or 4_Ortho_RGBIR"):
        PotsdamReader(root).items()
    # An images archive unpacked without its folder: the tiles beside the labels.
    again = synth.write_potsdam(tmp_path / "flat", n=2, seed=4, size=32, layout="release")
    for p in (tmp_path / "flat" / "3_Ortho_IRRG").iterdir():
        p.rename(tmp_path / "flat" / p.name)
    shutil.rmtree(tmp_path / "flat" / "2_Ortho_RGB")
    shutil.rmtree(tmp_path / "flat" / "4_Ortho_RGBIR")
    samples = read_all(PotsdamReader(tmp_path / "flat"))
    assert [s.image_path.name for s in samples] == [
        Path(im.meta["variants"]["IRRG"]).name for im in again.images
    ]
    assert len(truth.images) == 2


def test_potsdam_label_folders_and_eroded_labels(tmp_path):
    folders = synth.write_potsdam(tmp_path / "a", n=2, seed=4, size=32)  # labels in 5_Labels_all/
    assert [s.meta["file"] for s in read_all(PotsdamReader(tmp_path / "a"))] == [
        im.labels[0] for im in folders.images
    ]
    # Only the eroded labels (5_Labels_all_noBoundary.zip, flat): found when asked for, hinted otherwise.
    for im in folders.images:
        label = tmp_path / "a" / im.labels[0]
        label.rename(tmp_path / "a" / label.name.replace("_label.tif", "_label_noBoundary.tif"))
    with pytest.raises(
        BadInput, match="no full label tiles .*eroded \\(noBoundary\\) ones are there: pass eroded=true"
    ):
        PotsdamReader(tmp_path / "a").items()
    eroded = read_all(PotsdamReader(tmp_path / "a", eroded=True))
    assert [s.meta["file"] for s in eroded] == [
        Path(im.labels[0]).name.replace("_label", "_label_noBoundary") for im in folders.images
    ]
    given = read_all(PotsdamReader(tmp_path / "a", eroded=True, labels="."))
    assert [s.boxes for s in given] == [s.boxes for s in eroded]


def test_ignore_option(potsdam):
    root, truth = potsdam
    labels = {b.label for s in read_all(PotsdamReader(root)) for b in s.boxes}
    assert labels == FOUR & set().union(*(truth_labels(im) for im in truth.images))
    five = {
        b.label for s in read_all(PotsdamReader(root, ignore="clutter")) for b in s.boxes
    }  # --opt ignore=clutter
    assert five == labels | {"impervious surface"}
    keep_all = PotsdamReader(root, ignore=())
    assert "clutter" in {b.label for s in read_all(keep_all) for b in s.boxes}
    with pytest.raises(ValueError, match="unknown ISPRS class"):
        read_all(PotsdamReader(root, ignore=("background",)))
    with pytest.raises(ValueError, match="option variant must be one of None, RGB, RGBIR, IRRG, not 'NIR'"):
        PotsdamReader(root, variant="NIR")


@pytest.fixture
def vaihingen(tmp_path):
    """Vaihingen as the archives unpack: top/ and gts_for_participants/ (training tiles only) from the
    images archive, the COMPLETE ground truth in the root."""
    truth = synth.write_vaihingen(tmp_path / "v", n=4, seed=1, size=32, layout="release")
    return tmp_path / "v", truth


def test_rs_synth_vaihingen_complete_ground_truth_wins(vaihingen):
    root, truth = vaihingen
    assert sorted(p.name for p in (root / "gts_for_participants").iterdir()) == [
        "top_mosaic_09cm_area1.tif",
        "top_mosaic_09cm_area3.tif",
    ]  # the training tiles among areas 1-4
    samples = read_all(VaihingenReader(root))
    assert [s.image_path.relative_to(root).as_posix() for s in samples] == [im.image for im in truth.images]
    assert [s.meta["file"] for s in samples] == [
        im.labels[0] for im in truth.images
    ]  # all four, from the root
    assert samples[0].image_id == "vaihingen/top_mosaic_09cm_area1" and samples[0].meta["bands"] == "IRRG"
    for s, im in zip(samples, truth.images):
        assert {b.label for b in s.boxes} == truth_labels(im)


def test_vaihingen_participants_labels_are_never_the_complete_ground_truth(vaihingen, tmp_path):
    root, truth = vaihingen
    for im in truth.images:
        (root / im.labels[0]).unlink()  # no COMPLETE archive unpacked
    reader = VaihingenReader(root)
    items = reader.items()
    assert len(items) == 4 and reader.skipped == []
    labelled = [reader.read(i).meta["file"] for i in items[::2]]
    assert labelled == [
        "gts_for_participants/top_mosaic_09cm_area1.tif",
        "gts_for_participants/top_mosaic_09cm_area3.tif",
    ]
    with pytest.raises(
        BadInput,
        match="image tile has no label tile in gts_for_participants/ \\(the 16 training "
        "tiles .*ground_truth_COMPLETE.zip: unpack it into the root",
    ) as e:
        reader.read(items[1])
    assert e.value.path.name == "top_mosaic_09cm_area2.tif" and e.value.kind == "missing-labels"
    skipping = VaihingenReader(root, missing_label="skip")
    assert [i[1] for i in skipping.items()] == ["top_mosaic_09cm_area1", "top_mosaic_09cm_area3"]
    assert sorted(p.path.name for p in skipping.skipped) == [
        "top_mosaic_09cm_area2.tif",
        "top_mosaic_09cm_area4.tif",
    ]
    # Through convert: skipped tiles are counted in the report, never silently missing.
    report = convert(
        "vaihingen",
        root,
        tmp_path / "out",
        workers=1,
        progress=False,
        keep_empty=True,
        reader_options={"missing_label": "skip"},
    )
    assert report.rows == 2 and report.n_skipped == 2


def test_a_label_tile_without_image_is_skipped_and_counted(vaihingen):
    root, truth = vaihingen
    Image.new("RGB", (32, 32), (0, 255, 0)).save(
        root / "top_mosaic_09cm_area9.tif"
    )  # the eroded zip's extra area9
    reader = VaihingenReader(root)
    assert len(reader.items()) == 4
    assert [(p.path.name, p.message) for p in reader.skipped] == [
        ("top_mosaic_09cm_area9.tif", "label tile has no IRRG image tile; skipped")
    ]


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
    boxes = parse_isprs(write_label(tmp_path / "t_label_noBoundary.tif", rgb), ignore=("clutter",))
    assert Box("building", 2, 2, 6, 4) in boxes and Box("car", 10, 8, 12, 10) in boxes
    assert [b for b in boxes if b.label == "impervious surface"] == [
        Box("impervious surface", 0, 0, 16, 6),
        Box("impervious surface", 0, 7, 16, 12),
    ]
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
    (root / "5_Labels_all" / "top_potsdam_2_10_label.tif").rename(
        root / "5_Labels_all" / "top_potsdam_2_11_label.tif"
    )
    reader = PotsdamReader(root)
    items = reader.items()
    assert [i[1] for i in items] == ["top_potsdam_2_10", "top_potsdam_3_10"]
    with pytest.raises(BadInput, match="image tile has no label tile in 5_Labels_all/$"):
        reader.read(items[0])
    assert [(p.path.name, p.message) for p in reader.skipped] == [
        ("top_potsdam_2_11_label.tif", "label tile has no RGB image tile; skipped")
    ]
    (tmp_path / "empty" / "2_Ortho_RGB").mkdir(parents=True)
    Image.new("RGB", (16, 12)).save(tmp_path / "empty" / "2_Ortho_RGB" / "top_potsdam_2_10_RGB.tif")
    with pytest.raises(BadInput, match="no full label tiles \\(looked in the root and in 5_Labels_all/"):
        PotsdamReader(tmp_path / "empty").items()
