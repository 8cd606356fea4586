"""Class names: the phrase rule, and published names matched as the copies people have write them."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rs_annotate.classnames import (
    DIOR,
    DIOR_CLASSES,
    DOTA_CLASSES,
    HRRSD_CLASSES,
    RSOD,
    RSOD_CLASSES,
    SDD_CLASSES,
    check_class,
    normalize,
)
from rs_annotate.cli import main
from rs_annotate.types import BadInput
from rs_formats import open_dataset


@pytest.mark.parametrize(
    "raw, table, expected",
    [
        ("baseballfield", DIOR, "baseball field"),
        ("golffield", DIOR, "golf field"),
        ("Expressway-toll-station", DIOR, "expressway toll station"),
        ("Expressway-Service-area", DIOR, "expressway service area"),
        ("storagetank", DIOR, "storage tank"),
        ("airplane", DIOR, "airplane"),  # kept as the source says, not merged with DOTA's "plane"
        ("vehicle", DIOR, "vehicle"),
        ("oiltank", RSOD, "oil tank"),
        ("small-vehicle", None, "small vehicle"),
        ("soccer-ball-field", None, "soccer ball field"),
        ("Ground_Track_Field", None, "ground track field"),
        ("T junction", None, "t junction"),
        ("storageTank", None, "storage tank"),
        ("  parking   lot ", None, "parking lot"),
        ("plane", None, "plane"),
    ],
)
def test_normalize(raw, table, expected):
    assert normalize(raw, table) == expected


def test_table_wins_and_matches_case_insensitively():
    assert normalize("GolfField", DIOR) == "golf field"
    assert normalize("GolfField") == "golf field"  # camelCase rule
    assert normalize("golffield") == "golffield"  # no table: glued words cannot be split generically
    assert normalize("Foo", {"foo": "bar baz"}) == "bar baz"


def test_empty_name():
    with pytest.raises(ValueError, match="empty class name"):
        normalize(" - ")


TABLES = [DOTA_CLASSES, DIOR_CLASSES, HRRSD_CLASSES, RSOD_CLASSES, SDD_CLASSES]


@pytest.mark.parametrize("classes", TABLES)
def test_every_spelling_of_a_published_class_is_that_class(classes):
    for name in classes:
        words = name.split()
        for raw in (
            "".join(words),  # glued (DIOR's and HF/torchgeo's copies)
            "-".join(w.capitalize() for w in words),
            "_".join(w.upper() for w in words),
            " ".join(words).title(),
        ):
            assert check_class(raw, "f.txt", 1, classes=classes) == name, raw


@pytest.mark.parametrize("raw", ["smal-vehicle", "small vehicles", "smallvehicle2", "plane."])
def test_typos_are_refused(raw):
    with pytest.raises(BadInput, match="is not one of the source's classes"):
        check_class(raw, "f.txt", 3, classes=DOTA_CLASSES)


def test_the_dior_reader_reads_the_hugging_face_copys_spelling(tmp_path: Path):
    src = tmp_path / "dior"
    (src / "JPEGImages").mkdir(parents=True)
    (src / "Annotations").mkdir()
    Image.fromarray(np.full((32, 32, 3), 90, np.uint8)).save(src / "JPEGImages" / "00001.jpg")
    (src / "Annotations" / "00001.xml").write_text(
        "<annotation><filename>00001.jpg</filename><size><width>32</width><height>32</height></size>"
        "<object><name>expresswayservicearea</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>20</xmax>"
        "<ymax>20</ymax></bndbox></object></annotation>"
    )
    assert main(["convert", "dior", str(src), "--out", str(tmp_path / "out")]) == 0
    rows = list(open_dataset(tmp_path / "out").iter_rows())
    assert [o["label"] for o in rows[0]["objects"]] == ["expressway service area"]
