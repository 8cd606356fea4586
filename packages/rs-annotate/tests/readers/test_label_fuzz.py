"""Property-based tests of the label parsers: random bytes, and random mutations of valid label files, give
either a clean BadInput (naming the file) or a valid result, never another exception.

Bounded for CI (``max_examples`` per property, derandomised so that a run repeats, no example database).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rs_annotate.classnames import DIOR, DIOR_CLASSES, DOTA, DOTA_CLASSES
from rs_annotate.readers import BadInput, Box
from rs_annotate.readers.auair import parse_entry as auair_entry
from rs_annotate.readers.carpk import parse_carpk
from rs_annotate.readers.dota import parse_labeltxt
from rs_annotate.readers.files import read_json, read_text
from rs_annotate.readers.hrsc import parse_hrsc
from rs_annotate.readers.levir import parse_levir
from rs_annotate.readers.precomp import group_captions
from rs_annotate.readers.ret3 import load_json, parse_entry
from rs_annotate.readers.sdd import parse_sdd
from rs_annotate.readers.visdrone import parse_visdrone
from rs_annotate.readers.voc import XmlDoc, parse_voc

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def boxes_ok(boxes: list[Box]) -> None:
    for b in boxes:
        assert isinstance(b.label, str) and b.label.strip()
        assert all(math.isfinite(v) for v in (b.x0, b.y0, b.x1, b.y1)), b


def _dota(path: Path) -> None:
    labels = parse_labeltxt(read_text(path), path)
    boxes = labels.boxes(table=DOTA, classes=DOTA_CLASSES)
    boxes_ok(boxes)
    assert {b.label for b in boxes} <= DOTA_CLASSES
    assert labels.gsd is None or (math.isfinite(labels.gsd) and labels.gsd > 0)


def _voc(path: Path) -> None:
    boxes, size = parse_voc(XmlDoc(path), table=DIOR, classes=DIOR_CLASSES)
    boxes_ok(boxes)
    assert {b.label for b in boxes} <= DIOR_CLASSES
    assert size is None or (size[0] > 0 and size[1] > 0)


def _hrsc(path: Path) -> None:
    boxes, _, meta = parse_hrsc(XmlDoc(path), use_obb=False)
    boxes_ok(boxes)
    assert len(meta["class_ids"]) == len(boxes)


def _text(parse: Callable[[str, Path], Any]) -> Callable[[Path], None]:
    def check(path: Path) -> None:
        result = parse(read_text(path), path)
        boxes_ok(result[0] if isinstance(result, tuple) else result)

    return check


def _sdd(path: Path) -> None:
    boxes, lost = parse_sdd(read_text(path), path)
    for rows in boxes.values():
        boxes_ok([Box(label, *coords) for label, *coords in rows])
    assert all(n > 0 for n in lost.values())


def _ret3(path: Path) -> None:
    entries, _ = load_json(path)
    for i, entry in enumerate(entries):
        try:
            filename, split, captions = parse_entry(entry, i, path)
        except BadInput as exc:
            assert exc.path == path
            continue
        assert isinstance(filename, str) and isinstance(split, str) and captions
        assert all(isinstance(c, str) and c.strip() for c in captions)


def _auair(path: Path) -> None:
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("annotations"), list):
        return  # the reader refuses such a file as a whole (covered by its own tests)
    categories = data.get("categories") if isinstance(data.get("categories"), list) else []
    if not all(isinstance(c, str) and c.strip() for c in categories):
        return
    for i, entry in enumerate(data["annotations"]):
        try:
            name, boxes, size = auair_entry(entry, i, categories, path)
        except BadInput as exc:
            assert exc.path == path
            continue
        assert isinstance(name, str) and name
        boxes_ok(boxes)


VALID: dict[str, tuple[bytes, Callable[[Path], None]]] = {
    "dota": (
        b"imagesource:GoogleEarth\r\ngsd:0.146\r\n10 10 50 10 50 40 10 40 small-vehicle 0\r\n"
        b"60.5 60 90 60 90 90 60 90 plane 1\r\n",
        _dota,
    ),
    "voc": (
        b"""<annotation><size><width>800</width><height>800</height></size><filename>1.jpg</filename>
<object><name>golffield</name><difficult>0</difficult><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>30</xmax>
<ymax>40</ymax></bndbox></object><object><name>Expressway-toll-station</name><robndbox><x_left_top>1</x_left_top>
<y_left_top>2</y_left_top><x_right_top>9</x_right_top><y_right_top>2</y_right_top><x_right_bottom>9
</x_right_bottom><y_right_bottom>8</y_right_bottom><x_left_bottom>1</x_left_bottom><y_left_bottom>8
</y_left_bottom></robndbox></object></annotation>""",
        _voc,
    ),
    "hrsc": (
        b"""<HRSC_Image><Img_SizeWidth>1000</Img_SizeWidth><Img_SizeHeight>600</Img_SizeHeight>
<Img_Resolution>1.07</Img_Resolution><HRSC_Objects><HRSC_Object><Class_ID>100000013</Class_ID>
<difficult>0</difficult><box_xmin>10</box_xmin><box_ymin>20</box_ymin><box_xmax>300</box_xmax>
<box_ymax>90</box_ymax><mbox_cx>150</mbox_cx><mbox_cy>55</mbox_cy><mbox_w>290</mbox_w><mbox_h>60</mbox_h>
<mbox_ang>-0.1</mbox_ang></HRSC_Object></HRSC_Objects></HRSC_Image>""",
        _hrsc,
    ),
    "carpk": (b"10 10 40 30 1\n50 50 80 70 1\n", _text(parse_carpk)),
    "levir": (b"1 10 10 40 30\n2,50,50,80,70\n\n3\t5 5 9 9\n", _text(parse_levir)),
    "visdrone": (b"10,10,30,20,1,4,0,0\n5,5,10,10,0,0,0,0,\n1,1,5,5,1,11,0,2\n", _text(parse_visdrone)),
    "sdd": (b'1 10 10 40 30 0 0 0 0 "Pedestrian"\n2 50 50 80 70 5 1 0 1 "Biker"\n', _sdd),
    "ret3": (
        json.dumps(
            {
                "dataset": "rsicd",
                "images": [
                    {
                        "filename": "a.jpg",
                        "split": "train",
                        "sentences": [{"raw": "A plane ."}, {"raw": "two ships"}],
                    },
                    {
                        "filename": "b.jpg",
                        "filepath": "sub",
                        "split": "test",
                        "sentences": [{"raw": "a dam"}],
                    },
                ],
            }
        ).encode(),
        _ret3,
    ),
    "auair": (
        json.dumps(
            {
                "categories": ["Human", "Car"],
                "annotations": [
                    {
                        "image_name": "f.jpg",
                        "image_width": 1920.0,
                        "image_height": 1080.0,
                        "bbox": [{"top": 1, "left": 2, "height": 3, "width": 4, "class": 1}],
                    }
                ],
            }
        ).encode(),
        _auair,
    ),
}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def outcome(check: Callable[[Path], None], path: Path, data: bytes) -> None:
    path.write_bytes(data)
    try:
        check(path)
    except BadInput as exc:
        assert exc.path == path and str(exc).startswith(str(path)) and "\n" not in str(exc)


def mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    out = bytearray(data)
    for pos, op, chunk in edits:
        pos %= len(out) + 1
        if op == 0:
            out[pos:pos] = chunk
        elif op == 1:
            del out[pos : pos + len(chunk)]
        else:
            out[pos : pos + len(chunk)] = chunk
    return bytes(out)


# Mutations that reach past the syntax: tokens the parsers must reject or accept cleanly.
TOKENS = [
    b"nan",
    b"inf",
    b"-inf",
    b"1e999",
    b"-1",
    b"0",
    b"",
    b" ",
    b"\t",
    b",",
    b'"',
    b"\r\n",
    b"\xff",
    b"\x00",
    b"null",
    b"[]",
    b"{}",
    b"true",
    b"99999999999999999999",
    b"<",
    b"/>",
    b"..",
    b"\xef\xbb\xbf",
]
EDITS = st.lists(
    st.tuples(
        st.integers(0, 2000),
        st.integers(0, 2),
        st.one_of(st.binary(min_size=1, max_size=4), st.sampled_from(TOKENS).filter(bool)),
    ),
    min_size=1,
    max_size=6,
)


@pytest.mark.parametrize("fmt", list(VALID))
def test_the_valid_samples_parse(scratch, fmt):
    data, check = VALID[fmt]
    path = scratch / f"valid-{fmt}"
    path.write_bytes(data)
    check(path)


@pytest.mark.parametrize("fmt", list(VALID))
def test_random_bytes_never_escape_as_another_exception(scratch, fmt):
    _, check = VALID[fmt]

    @FUZZ
    @given(st.binary(max_size=400))
    def prop(data: bytes) -> None:
        outcome(check, scratch / f"random-{fmt}", data)

    prop()


@pytest.mark.parametrize("fmt", list(VALID))
def test_mutated_label_files_never_escape_as_another_exception(scratch, fmt):
    valid, check = VALID[fmt]

    @FUZZ
    @given(EDITS)
    def prop(edits: list[tuple[int, int, bytes]]) -> None:
        outcome(check, scratch / f"mutated-{fmt}", mutate(valid, edits))

    prop()


@FUZZ
@given(st.integers(0, 1), EDITS)
def test_mutated_precomp_pairs_never_escape_as_another_exception(scratch, which, edits):
    files = [
        b"a plane.\nanother plane.\nplanes.\none plane.\na jet.\na dam.\n" * 1,
        b"a.jpg\n" * 5 + b"b.jpg\n",
    ]
    files[which] = mutate(files[which], edits)
    caps, names = scratch / "test_caps.txt", scratch / "test_filename.txt"
    caps.write_bytes(files[0])
    names.write_bytes(files[1])
    try:
        groups = group_captions(caps, names, captions_per_image=None)
    except BadInput as exc:
        assert exc.path in (caps, names) and "\n" not in str(exc)
        return
    for name, line, captions in groups:
        assert name and line >= 1 and captions and all(c for c in captions)
