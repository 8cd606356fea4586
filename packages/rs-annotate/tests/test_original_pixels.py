"""Evaluation data keeps original pixels by default; training data keeps the bounded re-encoding."""

import io
import json

import numpy as np
from PIL import Image

from rs_annotate import convert
from rs_annotate.report import report_path
from rs_formats import open_dataset
from rs_synth.registry import FORMATS
from rs_synth.writers import segmentation


def rows(path, split):
    return open_dataset(path).read_table(split, ["image_id", "image", "width", "height", "meta"]).to_pylist()


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_classification_sets_keep_the_files_bytes(tmp_path):
    FORMATS["imagefolder"].write(tmp_path / "scenes", 24, seed=0, size=300)
    report = convert("imagefolder", tmp_path / "scenes", tmp_path / "eval", workers=1, progress=False)
    assert report.pixels == {"test": "original", "train": "original"}  # the probe embeds train too
    for split in ("train", "test"):
        for row in rows(tmp_path / "eval", split):
            meta = json.loads(row["meta"])
            assert row["image"] == (tmp_path / "scenes" / meta["class_folder"] / meta["file"]).read_bytes()
            assert (row["width"], row["height"]) == (300, 300)
    assert json.loads(report_path(tmp_path / "eval").read_text())["pixels"] == report.pixels
    assert open_dataset(tmp_path / "eval").manifest["stats"]["convert"]["pixels"] == report.pixels
    again = convert(
        "imagefolder", tmp_path / "scenes", tmp_path / "small", workers=1, progress=False, keep_original=False
    )  # --no-keep-original
    assert again.pixels == {"test": "re-encoded", "train": "re-encoded"}
    assert {(r["width"], r["height"]) for r in rows(tmp_path / "small", "train")} == {(256, 256)}


def test_caption_sets_keep_original_pixels_in_their_test_split_only(tmp_path):
    truth = FORMATS["rsitmd"].write(tmp_path / "rsitmd", 12, seed=1, size=300)  # .tif files
    assert {im.split for im in truth.images} >= {"train", "test"}
    report = convert("rsitmd", tmp_path / "rsitmd", tmp_path / "out", workers=1, progress=False)
    assert report.pixels["test"] == "original" and report.pixels["train"] == "re-encoded"
    files = {im.image.rsplit("/", 1)[-1]: tmp_path / "rsitmd" / im.image for im in truth.images}
    tests = rows(tmp_path / "out", "test")
    assert len(tests) == sum(im.split == "test" for im in truth.images)
    for row in tests:
        assert row["image"] == files[row["image_id"].split("/", 1)[1] + ".tif"].read_bytes()
    assert {(r["width"], r["height"]) for r in rows(tmp_path / "out", "train")} == {(256, 256)}
    # The split a row ends in decides: --split test makes every row evaluation data.
    as_test = convert("rsitmd", tmp_path / "rsitmd", tmp_path / "t", workers=1, progress=False, split="test")
    assert as_test.pixels == {"test": "original"}


def test_pixels_without_a_storable_file_are_encoded_losslessly(tmp_path):
    truth = segmentation.write_potsdam(tmp_path / "p", n=2, seed=3, size=96, layout="release")
    convert(
        "potsdam",
        tmp_path / "p",
        tmp_path / "rgbir",
        workers=1,
        progress=False,
        split="test",
        keep_empty=True,
        reader_options={"variant": "RGBIR"},
    )  # bands 1-3 of a 4-band TIFF: an array
    for row, im in zip(rows(tmp_path / "rgbir", "test"), truth.images):
        assert row["image"][:8] == b"\x89PNG\r\n\x1a\n"
        rgb = np.asarray(Image.open(tmp_path / "p" / im.meta["variants"]["RGB"]))
        assert np.array_equal(pixels(row["image"]), rgb)
    # Tiles cut from a scene, kept original: lossless PNG crops of the scene.
    convert(
        "potsdam",
        tmp_path / "p",
        tmp_path / "tiles",
        workers=1,
        progress=False,
        keep_original=True,
        tile=64,
        tile_overlap=0,
        keep_empty=True,
    )
    tiles = rows(tmp_path / "tiles", "train")
    assert len(tiles) == 2 * 4  # 96 x 96 scenes, 64-pixel windows: 2 x 2 each
    for row in tiles:
        x, y, w, h = json.loads(row["meta"])["tile"]
        tile_name = row["image_id"].split("/", 1)[1].split("__")[0]
        scene = np.asarray(Image.open(tmp_path / "p" / "2_Ortho_RGB" / f"{tile_name}_RGB.tif"))
        assert np.array_equal(pixels(row["image"]), scene[y : y + h, x : x + w])
    # A format outside the contract's JPEG / PNG / TIFF (HRSC2016's BMP): PNG with the same pixels.
    FORMATS["hrsc2016"].write(tmp_path / "hrsc", 2, seed=0, size=96)
    report = convert("hrsc", tmp_path / "hrsc", tmp_path / "h", workers=1, progress=False, split="test")
    assert report.rows == 2
    for row in rows(tmp_path / "h", "test"):
        bmp = next((tmp_path / "hrsc").rglob(f"{row['image_id'].split('/', 1)[1]}.bmp"))
        assert row["image"][:4] == b"\x89PNG" and np.array_equal(
            pixels(row["image"]), pixels(bmp.read_bytes())
        )
    assert report.pixels == {"test": "original"}
