"""A corpus of hostile and unlucky inputs, generated here, one case per class, each with its exact outcome.

Every case runs ``rs-annotate convert`` (in this process, as the console script would) on a small source
built for it and asserts the one line it must print (``rs-annotate: error: FILE[:LINE]: message``), exit
status 2, and that nothing was published or left behind. Special files (a FIFO, a link to ``/dev/zero``)
would hang or exhaust memory if they were ever read, so the refusal itself is what these tests check.
"""

from __future__ import annotations

import io
import json
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rs_annotate.cli import main
from rs_formats import DatasetWriter

OUTSIDE_JS = "names in labels must stay inside their folder"


def png(path: Path, size: tuple[int, int] = (32, 32)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size[1], size[0], 3), 90, np.uint8)).save(path)
    return path


def bomb_header(width: int, height: int) -> bytes:
    """A valid PNG header declaring ``width`` x ``height`` RGB pixels, a few dozen bytes long."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


OBJECT = "2 2 20 2 20 20 2 20 ship 0\n"


def dota(root: Path, label: str | bytes = OBJECT, *, stem: str = "P1", split: str = "") -> tuple[Path, Path]:
    base = root / split if split else root
    return write(base / "labelTxt" / f"{stem}.txt", label), png(base / "images" / f"{stem}.png")


def voc(root: Path, filename: str, name: str = "ship") -> Path:
    (root / "JPEGImages").mkdir(parents=True)
    return write(
        root / "Annotations" / "0001.xml",
        f"""<annotation>
<size><width>32</width><height>32</height></size>
<filename>{filename}</filename>
<object><name>{name}</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object>
</annotation>
""",
    )


def ret3(root: Path, entry: dict | None = None, text: str | None = None) -> Path:
    png(root / "images" / "a.jpg")
    entry = entry or {}
    data = {"images": [{"filename": "a.jpg", "split": "train", "sentences": [{"raw": "a plane."}], **entry}]}
    return write(root / "dataset_x.json", text if text is not None else json.dumps(data))


def run(capsys, fmt: str, src: Path, out: Path, *extra: str) -> tuple[int, str]:
    code = main(
        [
            "convert",
            fmt,
            str(src),
            "--out",
            str(out),
            "--workers",
            "1",
            "--no-progress",
            "-q",
            "--short-side",
            "32",
            *extra,
        ]
    )
    return code, capsys.readouterr().err


# Each case: (format, build(src, tmp) -> the expected message after "rs-annotate: error: ", extra flags).
Case = tuple[str, Callable[[Path, Path], str], tuple[str, ...]]


def _voc_dotdot(src: Path, tmp: Path) -> str:
    xml = voc(src, "../../secret.jpg")
    return f"{xml}:3: file name '../../secret.jpg' climbs out with '..'; {OUTSIDE_JS}"


def _voc_absolute(src: Path, tmp: Path) -> str:
    xml = voc(src, "/etc/hostname")
    return f"{xml}:3: file name '/etc/hostname' is an absolute path; {OUTSIDE_JS}"


def _ret3_dotdot(src: Path, tmp: Path) -> str:
    js = ret3(src, {"filename": "../outside.jpg"})
    return f"{js}: images[0]: file name '../outside.jpg' climbs out with '..'; {OUTSIDE_JS}"


def _ret3_filepath_not_a_string(src: Path, tmp: Path) -> str:
    js = ret3(src, {"filepath": 7})
    return f"{js}: images[0] (a.jpg): 'filepath' is not a folder name: 7"


def _ret3_deep_json(src: Path, tmp: Path) -> str:
    js = ret3(src, text='{"images": ' + "[" * 50_000 + "]" * 50_000 + "}")
    return f"{js}: JSON nested more than 64 levels deep; refusing it"


def _auair_absolute(src: Path, tmp: Path) -> str:
    (src / "images").mkdir(parents=True)
    js = write(
        src / "annotations.json",
        json.dumps(
            {
                "categories": ["Human"],
                "annotations": [
                    {"image_name": "/etc/passwd", "image_width": 32, "image_height": 32, "bbox": []}
                ],
            }
        ),
    )
    return f"{js}: annotations[0]: file name '/etc/passwd' is an absolute path; {OUTSIDE_JS}"


def _precomp_dotdot(src: Path, tmp: Path) -> str:
    write(src / "test_caps.txt", "a plane.\n" * 5)
    names = write(src / "test_filename.txt", "../x.jpg\n" * 5)
    return f"{names}:1: file name '../x.jpg' climbs out with '..'; {OUTSIDE_JS}"


def _image_symlink_out(src: Path, tmp: Path) -> str:
    label, image = dota(src)
    image.unlink()
    image.symlink_to(png(tmp / "private" / "photo.png"))
    return (
        f"{image}: {image} leads outside {src} through a symlink (to {tmp / 'private' / 'photo.png'}); "
        "refusing to read it (--follow-symlinks allows symlinks)"
    )


def _label_fifo(src: Path, tmp: Path) -> str:
    label, _ = dota(src)
    label.unlink()
    os.mkfifo(label)
    return f"{label}: is a FIFO (named pipe), not a regular file; refusing to read it"


def _image_fifo(src: Path, tmp: Path) -> str:
    _, image = dota(src)
    image.unlink()
    os.mkfifo(image)
    return f"{image}: is a FIFO (named pipe), not a regular file; refusing to read it"


def _image_dev_zero(src: Path, tmp: Path) -> str:
    _, image = dota(src)
    image.unlink()
    image.symlink_to("/dev/zero")  # followed (the flag below): still never read
    return f"{image}: is a character device, not a regular file; refusing to read it"


def _bomb(src: Path, tmp: Path) -> str:
    _, image = dota(src)
    image.write_bytes(bomb_header(50_000, 50_000))
    return (
        f"{image}: image declares 50000x50000 = 2,500,000,000 pixels, over the limit of 1,073,741,824 "
        "(a decompression bomb, or a scene to tile first); refusing to decode it"
    )


def _unknown_class(src: Path, tmp: Path) -> str:
    label, _ = dota(src, "imagesource:GoogleEarth\ngsd:0.5\n2 2 20 2 20 20 2 20 smal-vehicle 0\n")
    return (
        f"{label}:3: class 'smal-vehicle' is not one of the source's classes (airport, baseball diamond, "
        "basketball court, bridge, container crane, ground track field, harbor, helicopter, helipad, "
        "large vehicle, plane, roundabout, ship, small vehicle, soccer ball field, storage tank, swimming "
        "pool, tennis court); a typo? (reader option extra_classes=smal-vehicle accepts it)"
    )


def _empty_class(src: Path, tmp: Path) -> str:
    xml = voc(src, "0001.jpg", name="___")
    png(src / "JPEGImages" / "0001.jpg")
    return f"{xml}:4: empty class name '___'"


def _duplicate_id(src: Path, tmp: Path) -> str:
    first, _ = dota(src, split="train")
    second, _ = dota(src, split="val")
    return f"{second}: image id 'dota/P1' is also the id of an image from {first}: ids must be unique within a dataset"


def _not_utf8(src: Path, tmp: Path) -> str:
    data = b"gsd:0.5\n2 2 20 2 20 20 2 20 ship 0 \xff\n"
    label, _ = dota(src, data)
    return f"{label}:2: not UTF-8 text (invalid start byte at byte {data.index(0xFF)})"


CASES: dict[str, Case] = {
    "voc <filename> with ..": ("voc", _voc_dotdot, ()),
    "voc <filename> absolute": ("voc", _voc_absolute, ()),
    "captions filename with ..": ("ret3", _ret3_dotdot, ()),
    "captions filepath not a string": ("ret3", _ret3_filepath_not_a_string, ()),
    "captions JSON nested 50000 deep": ("ret3", _ret3_deep_json, ()),
    "au-air image_name absolute": ("auair", _auair_absolute, ()),
    "precomp name with ..": ("precomp", _precomp_dotdot, ()),
    "image symlink leading out": ("dota", _image_symlink_out, ()),
    "label is a FIFO": ("dota", _label_fifo, ()),
    "image is a FIFO": ("dota", _image_fifo, ()),
    "image links to /dev/zero": ("dota", _image_dev_zero, ("--follow-symlinks",)),
    "decompression bomb": ("dota", _bomb, ()),
    "class not in the published table": ("dota", _unknown_class, ()),
    "empty class name": ("voc", _empty_class, ()),
    "duplicate image id": ("dota", _duplicate_id, ()),
    "label not UTF-8": ("dota", _not_utf8, ()),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_bad_input_is_one_line_naming_its_file(tmp_path, capsys, case):
    fmt, build, extra = CASES[case]
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    expected = build(src, tmp_path)
    code, err = run(capsys, fmt, src, out, *extra)
    assert (code, err) == (2, f"rs-annotate: error: {expected}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({"src", "private"} & {*os.listdir(tmp_path)})


def test_skip_bad_counts_the_case_instead(tmp_path, capsys):
    src = tmp_path / "src"
    label, _ = dota(src, "2 2 20 2 20 20 2 20 smal-vehicle 0\n", stem="P1")
    dota(src, stem="P2")
    code, err = run(capsys, "dota", src, tmp_path / "out", "--skip-bad")
    report = json.loads((tmp_path / "out.report.json").read_text())
    assert code == 0 and report["rows"] == 1 and report["n_bad"] == 1
    assert report["bad"][0]["file"] == str(label) and report["bad"][0]["line"] == 1
    assert report["bad"][0]["error"].startswith("class 'smal-vehicle' is not one of the source's classes")
    assert "1 bad item(s)" in err


def test_the_escape_hatches(tmp_path, capsys):
    src = tmp_path / "src"
    label, image = dota(src, "2 2 20 2 20 20 2 20 smal-vehicle 0\n")
    image.unlink()
    image.symlink_to(png(tmp_path / "elsewhere" / "P1.png"))
    code, err = run(
        capsys, "dota", src, tmp_path / "out", "--follow-symlinks", "--opt", "extra_classes=smal-vehicle"
    )
    assert (code, err) == (0, "")


def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    from rs_formats import atomic
    from rs_formats.dataset import writer as writer_module

    def staging_on_a_full_disk(target):
        tmp = atomic.staging_dir(target)
        (tmp / "data").mkdir()
        (tmp / "data" / "train-00000.parquet").symlink_to("/dev/full")
        return tmp

    monkeypatch.setattr(writer_module, "staging_dir", staging_on_a_full_disk)
    src, out = tmp_path / "src", tmp_path / "out"
    dota(src)
    assert run(capsys, "dota", src, out) == (
        2,
        f"rs-annotate: error: {out}: No space left on device; nothing was published\n",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]


def test_validate_reports_a_bomb_row_as_a_problem_of_that_row(tmp_path, capsys):
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG")
    rows = [
        {
            "image_id": f"x/{i}",
            "source": "x",
            "image": buf.getvalue(),
            "width": 8,
            "height": 8,
            "captions": ["a"] * 5,
            "objects": [],
            "phash": 1,
        }
        for i in range(2)
    ]
    rows[1]["image"] = bomb_header(50_000, 50_000)
    with DatasetWriter(tmp_path / "ds", name="ds") as w:
        w.write_many(rows)
    assert main(["validate", str(tmp_path / "ds")]) == 1
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "train/x/1: image does not decode (image declares 50000x50000 = 2,500,000,000 pixels, over the limit of "
        "67,108,864 (a decompression bomb, or a scene to tile first); refusing to decode it)",
        f"{tmp_path / 'ds'}: 2 rows, 1 problem(s), 1 decode to a constant image",  # row 0 is black
    ]
