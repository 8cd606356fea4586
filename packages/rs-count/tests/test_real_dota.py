"""Builds from real DOTA label files (shared/data: DOTA v1.0 devkit samples and mmrotate's split tiles),
read by rs-annotate's parser, the one DOTA parser of rs-clip."""

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from rs_annotate import BadInput
from rs_count.build import build
from rs_count.rules import BuildRules
from rs_formats import open_dataset


def plain_objects(path: Path) -> list[tuple[list[float], str, bool]]:
    """(corners, class, difficult) read the plain way, the oracle for what the build stored."""
    rows = [line.split() for line in path.read_text().splitlines() if len(line.split()) == 10]
    return [([float(v) for v in r[:8]], r[8], r[9] == "1") for r in rows]


def tile_tree(shared_data: Path, tmp_path: Path, stems: list[str]) -> Path:
    """The real tile label files with 1024 px images (the repository's PNGs are thumbnails that do not
    match their labels' coordinates, see docs/test-data.md)."""
    root = tmp_path / "tiles"
    (root / "labelTxt").mkdir(parents=True)
    (root / "images").mkdir()
    for stem in stems:
        shutil.copy(shared_data / "dota_tiles" / "labelTxt" / f"{stem}.txt", root / "labelTxt")
        Image.new("RGB", (1024, 1024), (90, 110, 80)).save(root / "images" / f"{stem}.png")
    return root


def test_real_v1_files_with_their_images_are_judged_by_the_rules(shared_data, tmp_path):
    # P0706 (531 ships) and P1888 (vehicles only) have images; P0770, P1088, P1234 have none here.
    with pytest.raises(
        BadInput,
        match=r"no image passes the selection rules \(rejected: no-counting-class 1, "
        r"count-out-of-range 1\)",
    ):
        build(
            shared_data / "dota" / "labelTxt",
            shared_data / "dota" / "images",
            tmp_path / "ds",
            skip_bad=True,
            progress=False,
        )
    with pytest.raises(BadInput, match=r"P0770.txt: image 'P0770' not found") as e:
        build(
            shared_data / "dota" / "labelTxt",
            shared_data / "dota" / "images",
            tmp_path / "ds",
            progress=False,
        )
    assert e.value.kind == "missing-image"


def test_real_tile_float_corners_without_header(shared_data, tmp_path):
    stem = "P2805__1024__0___0"
    root = tile_tree(shared_data, tmp_path, [stem])
    rep = build(
        root / "labelTxt", root / "images", tmp_path / "ds", BuildRules(short_side=384), progress=False
    )
    assert rep.written == 1 and rep.per_count == {4: 1}
    (row,) = open_dataset(tmp_path / "ds").iter_rows("test")
    assert (row["count"], row["count_label"], row["width"]) == (4, "plane", 384)
    assert row["captions"] == ["There are four planes in the image."]
    meta = json.loads(row["meta"])
    assert meta["imagesource"] is None and meta["gsd"] is None  # tiles carry no header
    expected = [
        v * 0.375
        for c, _, _ in plain_objects(root / "labelTxt" / f"{stem}.txt")
        for v in (min(c[0::2]), min(c[1::2]), max(c[0::2]), max(c[1::2]))
    ]
    assert [o[k] for o in row["objects"] for k in ("x0", "y0", "x1", "y1")] == pytest.approx(expected)


def test_real_tile_with_a_difficult_plane(shared_data, tmp_path):
    stem = "P0004__1__0___0"
    root = tile_tree(shared_data, tmp_path, [stem])
    objects = plain_objects(root / "labelTxt" / f"{stem}.txt")
    assert [d for _, _, d in objects] == [False, False, True, False]
    with pytest.raises(BadInput, match=r"rejected: difficult 1\)"):
        build(root / "labelTxt", root / "images", tmp_path / "a", progress=False)
    # these planes are 18-21 px wide: under 8 px once the tile is stored at 384 px
    with pytest.raises(BadInput, match=r"rejected: too-small 1\)"):
        build(
            root / "labelTxt", root / "images", tmp_path / "a", BuildRules(difficult="ignore"), progress=False
        )
    build(
        root / "labelTxt",
        root / "images",
        tmp_path / "b",
        BuildRules(difficult="ignore", short_side=1024),
        progress=False,
    )
    (row,) = open_dataset(tmp_path / "b").iter_rows("test")
    assert row["count"] == 3 and [o["difficult"] for o in row["objects"]] == [False, False, True, False]
