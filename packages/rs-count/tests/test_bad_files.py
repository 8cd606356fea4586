"""Hostile and unlucky files given to ``rs-count``: each is one line naming the file (and line, or the flag)
with exit status 2: names in annotations stay inside the image folder, reference and annotation files are
regular files of bounded depth, a class list that names nothing is a usage error."""

from __future__ import annotations

import json
import os

import pytest
from conftest import grid_boxes, write_scene

from rs_count.cli import main


def run(capsys, *args: str) -> tuple[int, str]:
    code = main([*args, "--no-progress", "-q"])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    "name, why", [("../secret.png", "climbs out with '..'"), ("/etc/hostname", "is an absolute path")]
)
def test_an_annotation_naming_a_file_outside_the_images_is_refused(tmp_path, capsys, name, why):
    root = tmp_path / "d"
    write_scene(root, "A", grid_boxes("plane", 2))
    ann = tmp_path / "a.csv"
    ann.write_text(f"image,class,count\n{name},plane,2\n")
    code, err = run(
        capsys, "import", str(ann), "--images", str(root / "images"), "--out", str(tmp_path / "o")
    )
    assert (code, err) == (
        2,
        f"rs-count: error: {ann}:2: file name {name!r} {why}; names in labels must stay "
        "inside their folder\n",
    )


def test_an_image_symlink_leading_out_of_the_images_is_refused(tmp_path, capsys):
    root = tmp_path / "d"
    _, image = write_scene(root, "A", grid_boxes("plane", 2))
    private = tmp_path / "private.png"
    image.rename(private)
    image.symlink_to(private)
    ann = tmp_path / "a.csv"
    ann.write_text("image,class,count\nA.png,plane,2\n")
    code, err = run(
        capsys, "import", str(ann), "--images", str(root / "images"), "--out", str(tmp_path / "o")
    )
    assert code == 2 and err.startswith(f"rs-count: error: {ann}:2: {image} leads outside ")


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda p: p.write_text("[" * 5000 + "]" * 5000),
            "JSON nested more than 64 levels deep; refusing it",
        ),
        (lambda p: os.mkfifo(p), "is a FIFO (named pipe), not a regular file; refusing to read it"),
        (
            lambda p: p.write_text('[{"model": "x",\n "topk": [1, 2,, 3]}]'),
            "2: not valid JSON: Expecting value (column 16)",
        ),
    ],
)
def test_bad_annotation_and_reference_files_are_one_line(tmp_path, capsys, make, message):
    ann = tmp_path / "a.json"
    make(ann)
    (tmp_path / "images").mkdir()
    code, err = run(
        capsys, "import", str(ann), "--images", str(tmp_path / "images"), "--out", str(tmp_path / "o")
    )
    sep = "" if message[0].isdigit() else " "
    assert (code, err) == (2, f"rs-count: error: {ann}:{sep}{message}\n")
    ref = tmp_path / "ref.json"
    make(ref)
    code, err = run(
        capsys,
        "eval",
        "--model",
        "RS-Tiny",
        "--data",
        str(tmp_path / "none"),
        "--reference",
        str(ref),
        "--out",
        str(tmp_path / "o"),
    )
    assert (code, err) == (2, f"rs-count: error: {ref}:{sep}{message}\n")  # read before the dataset


def test_a_class_list_naming_nothing_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(
            [
                "build",
                "--labels",
                str(tmp_path),
                "--images",
                str(tmp_path),
                "--out",
                str(tmp_path / "o"),
                "--other-classes",
                "helipad,___",
            ]
        )
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "rs-count build: error: argument --other-classes: empty class name '___'"
    )


def test_reference_figures_from_a_regular_file_still_load(tmp_path):
    from rs_count.report import load_reference

    ref = tmp_path / "ref.json"
    ref.write_text(json.dumps([{"model": "RemoteCLIP", "topk": [30.0, 50.0]}]))
    assert load_reference(ref)[0]["topk"] == [30.0, 50.0]
