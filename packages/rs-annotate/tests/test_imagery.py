"""Conversion applies rs_formats.rasters' rule to every image: 8-bit RGB keeps its bytes, 16-bit, float,
grey and multi-band sources become 8-bit RGB that every consumer decodes (the rule itself is tested
against an independent computation in rs-formats' test_imagery)."""

import io
import json

import numpy as np
import pytest
import tifffile
from PIL import Image

from rs_annotate import convert
from rs_annotate.cli import main
from rs_annotate.validation import validate
from rs_formats import open_dataset
from rs_formats.rasters import to_rgb8

RNG = np.random.default_rng(3)


def decoded(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def rows(path):
    ds = open_dataset(path)
    return [r for s in ds.splits for r in ds.read_table(s, ["image_id", "image", "meta"]).to_pylist()]


def test_a_tree_of_16_bit_pngs_converts_to_visible_images(tmp_path):
    src = tmp_path / "scenes"
    originals = {}
    for cls in ("farmland", "harbor"):
        (src / cls).mkdir(parents=True)
        for i in range(3):
            band = RNG.integers(200, 4096, (40, 48), dtype=np.uint16)  # 12-bit values: PIL shows white
            Image.fromarray(band).save(src / cls / f"{i}.png")
            originals[f"{cls}/{i}.png"] = band
    jpeg = RNG.integers(0, 256, (40, 48, 3), dtype=np.uint8)
    Image.fromarray(jpeg).save(src / "harbor" / "rgb.jpg", quality=90)
    convert("imagefolder", src, tmp_path / "ds", workers=1, progress=False)
    stored = rows(tmp_path / "ds")
    assert len(stored) == 7
    for row in stored:
        meta = json.loads(row["meta"])
        name = f"{meta['class_folder']}/{meta['file']}"
        if name == "harbor/rgb.jpg":  # 8-bit RGB: the file's bytes
            assert row["image"] == (src / name).read_bytes()
            continue
        pixels = decoded(row["image"])
        assert pixels.std() > 30, name  # not the constant white PIL's convert("RGB") makes of 16 bits
        assert np.array_equal(pixels, to_rgb8(originals[name]))
    report = validate(tmp_path / "ds")
    assert report["ok"] and report["n_constant"] == 0


def test_validate_counts_rows_that_decode_to_a_constant_image(tmp_path, capsys):
    src = tmp_path / "scenes"
    for cls in ("a", "b"):
        (src / cls).mkdir(parents=True)
        for i in range(2):
            Image.fromarray(RNG.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(src / cls / f"{i}.png")
    Image.new("RGB", (16, 16), (255, 255, 255)).save(src / "a" / "white.png")
    convert("imagefolder", src, tmp_path / "ds", workers=1, progress=False)
    assert validate(tmp_path / "ds")["n_constant"] == 1
    assert main(["validate", str(tmp_path / "ds")]) == 0
    assert "5 rows, 0 problem(s), 1 decode to a constant image" in capsys.readouterr().out


def test_bands_range_and_nodata_flags_on_multi_band_float_and_grey_sources(tmp_path, capsys):
    src = tmp_path / "scenes"
    (src / "rgbn").mkdir(parents=True)
    (src / "float").mkdir()
    scenes = {}
    for i in range(2):
        rgbn = RNG.integers(0, 6000, (24, 32, 4), dtype=np.uint16)
        tifffile.imwrite(src / "rgbn" / f"{i}.tif", rgbn, photometric="rgb", extrasamples=[0])
        scenes[f"rgbn/{i}.tif"] = rgbn
        sea = RNG.normal(1500, 300, (24, 32)).astype(np.float32)  # reflectance x 10,000
        sea[:3] = -1.0  # the flag's nodata value
        sea[5, 5] = np.nan
        tifffile.imwrite(src / "float" / f"{i}.tif", sea)
        scenes[f"float/{i}.tif"] = sea
    code = main(
        ["convert", "imagefolder", str(src), "--out", str(tmp_path / "ds"), "--workers", "1"]
        + ["--bands", "4,3,2", "--nodata", "-1"]
    )
    assert code == 2  # two float bands do not exist: one line naming the file
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "float" in err[0] and "band 4 asked for, but the image has 1" in err[0]
    assert main(["convert", "imagefolder", str(src), "--out", str(tmp_path / "x"), "--range", "5", "1"]) == 2
    assert "range must be two finite numbers with MIN < MAX, got 5 1" in capsys.readouterr().err
    with pytest.raises(SystemExit) as bad_flag:  # argparse's usage error
        main(["convert", "imagefolder", str(src), "--out", str(tmp_path / "x"), "--bands", "4,3"])
    assert bad_flag.value.code == 2
    assert "argument --bands: bands must be one or three band numbers" in capsys.readouterr().err
    assert (
        main(
            ["convert", "imagefolder", str(src), "--out", str(tmp_path / "ds"), "--workers", "1"]
            + ["--bands", "1", "--range", "0", "5000", "--nodata", "-1"]
        )
        == 0
    )
    for row in rows(tmp_path / "ds"):
        meta = json.loads(row["meta"])
        name = f"{meta['class_folder']}/{meta['file']}"
        want = to_rgb8(scenes[name], bands=(1,), value_range=(0, 5000), nodata=-1)
        assert np.array_equal(decoded(row["image"]), want), name
        if name.startswith("float"):
            assert not decoded(row["image"])[:3].any() and decoded(row["image"])[3:].std() > 5
    options = open_dataset(tmp_path / "ds").manifest["stats"]["convert"]["options"]
    assert (options["bands"], options["value_range"], options["nodata"]) == ([1], [0.0, 5000.0], -1.0)


def test_a_reader_handing_over_pixels_goes_through_the_rule_too(tmp_path):
    """ISPRS Potsdam's RGBIR tiles: the reader hands all four bands; --bands 4,1,2 stores IR-R-G."""
    from rs_synth.writers import segmentation

    truth = segmentation.write_potsdam(tmp_path / "p", n=2, seed=3, size=64, layout="release")
    convert(
        "potsdam",
        tmp_path / "p",
        tmp_path / "irrg",
        workers=1,
        progress=False,
        split="test",
        keep_empty=True,
        bands=(4, 1, 2),
        reader_options={"variant": "RGBIR"},
    )
    for row, im in zip(rows(tmp_path / "irrg"), truth.images):
        rgbir = tifffile.imread(tmp_path / "p" / im.meta["variants"]["RGBIR"])
        assert rgbir.shape[2] == 4 and np.array_equal(decoded(row["image"]), rgbir[:, :, [3, 0, 1]])
