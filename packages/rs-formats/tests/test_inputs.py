"""rs_formats.inputs: only regular files are read, names from labels stay inside their folder, JSON depth."""

from __future__ import annotations

import json
import os
import threading

import pytest

from rs_formats import FormatError
from rs_formats.inputs import MAX_JSON_DEPTH, check_inside, join_inside, read_bytes, read_json, read_text


def within(seconds: float, fn, *args):
    """``fn(*args)`` run in a thread; fails instead of hanging the suite if it blocks (a FIFO read would)."""
    out: dict = {}

    def target():
        try:
            out["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            out["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"{fn.__name__} blocked for {seconds} s"
    if "error" in out:
        raise out["error"]
    return out["value"]


@pytest.mark.parametrize(
    "make, kind",
    [
        (lambda p: os.mkfifo(p), r"a FIFO \(named pipe\)"),
        (lambda p: os.symlink("/dev/zero", p), "a character device"),
        (lambda p: p.mkdir(), "a directory"),
    ],
)
def test_special_files_are_refused_before_they_are_read(tmp_path, make, kind):
    path = tmp_path / "P0001.txt"
    make(path)
    for read in (read_bytes, read_text, read_json):
        with pytest.raises(
            FormatError, match=f"^{path}: is {kind}, not a regular file; refusing to read it$"
        ):
            within(5, read, path)


def test_regular_files_read_and_errors_name_file_and_line(tmp_path):
    path = tmp_path / "a.json"
    path.write_bytes(b'\xef\xbb\xbf{"a": [1, 2]}')
    assert read_json(path) == {"a": [1, 2]} and read_text(path) == '{"a": [1, 2]}'
    path.write_bytes(b'{\n"a": \xff}')
    with pytest.raises(FormatError, match=rf"^{path}:2: not UTF-8 text"):
        read_text(path)
    path.write_text('{\n"a": [1,,]}')
    with pytest.raises(FormatError, match=rf"^{path}:2: not valid JSON: Expecting value"):
        read_json(path)
    with pytest.raises(FormatError, match="cannot read: No such file"):
        read_bytes(tmp_path / "missing.txt")


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
def test_json_nested_too_deep_is_one_clean_error(tmp_path, depth):
    path = tmp_path / "deep.json"
    path.write_text("[" * depth + "]" * depth)
    with pytest.raises(FormatError, match=rf"^{path}: JSON nested more than {MAX_JSON_DEPTH} levels deep"):
        read_json(path)
    path.write_text(json.dumps({"images": [[[{"raw": "ok"}]]]}))
    assert read_json(path)["images"][0][0][0]["raw"] == "ok"


def test_json_with_an_integer_python_cannot_convert_is_one_clean_error(tmp_path):
    path = tmp_path / "big.json"
    path.write_text('{"id": ' + "9" * 5000 + "}")
    with pytest.raises(FormatError, match=rf"^{path}: not a usable JSON value \(Exceeds the limit"):
        read_json(path)


@pytest.mark.parametrize(
    "name, why",
    [
        ("../secret.jpg", "climbs out with '..'"),
        ("a/../../secret.jpg", "climbs out with '..'"),
        ("/etc/passwd", "is an absolute path"),
        ("\\\\server\\share\\x.jpg", "is an absolute path"),
        ("x\0.jpg", "holds a NUL byte"),
    ],
)
def test_names_from_labels_stay_inside(tmp_path, name, why):
    label = tmp_path / "Annotations" / "0001.xml"
    with pytest.raises(FormatError, match=rf"^{label}:7: file name .* {why}"):
        join_inside(tmp_path / "images", name, cited=label, line=7)


@pytest.mark.parametrize("name", [5, None, "", "  ", ["a.jpg"]])
def test_a_name_must_be_a_string(tmp_path, name):
    with pytest.raises(FormatError, match=r"is not a non-empty string"):
        join_inside(tmp_path, name, cited=tmp_path / "labels.json")


def test_symlinks_leading_out_are_refused_unless_followed(tmp_path):
    root, outside = tmp_path / "src", tmp_path / "private"
    (root / "images" / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "photo.jpg").write_bytes(b"x")
    (root / "images" / "inner.jpg").write_bytes(b"x")
    (root / "images" / "out.jpg").symlink_to(outside / "photo.jpg")
    (root / "images" / "linked_dir").symlink_to(outside)
    (root / "images" / "sub" / "in.jpg").symlink_to(root / "images" / "inner.jpg")
    assert join_inside(root, "images/sub/in.jpg", cited=root / "l.json") == root / "images/sub/in.jpg"
    for name in ("images/out.jpg", "images/linked_dir/photo.jpg"):
        with pytest.raises(FormatError, match=r"leads outside .* through a symlink .*--follow-symlinks"):
            join_inside(root, name, cited=root / "l.json")
        assert join_inside(root, name, cited=root / "l.json", follow_symlinks=True) == root / name
    # Several allowed roots: a folder the user named is as good as the source directory.
    assert check_inside([root, outside], root / "images" / "out.jpg") == root / "images" / "out.jpg"
    with pytest.raises(FormatError, match="climbs out"):
        join_inside(root, "../private/photo.jpg", cited=root / "l.json", follow_symlinks=True)


def test_yaml_errors_name_the_line_and_depth_is_bounded():
    from rs_formats.inputs import parse_yaml

    assert parse_yaml("a: [1, 2]\nb: {c: x}\n", "s.yaml") == {"a": [1, 2], "b": {"c": "x"}}
    with pytest.raises(FormatError, match=r"^s\.yaml:3: not valid YAML"):
        parse_yaml("a: 1\nb: [2,\nc: ]]\n", "s.yaml")
    with pytest.raises(FormatError, match=rf"^s\.yaml: YAML nested more than {MAX_JSON_DEPTH} levels deep"):
        parse_yaml("[" * 3000 + "]" * 3000, "s.yaml")
    with pytest.raises(FormatError, match="not valid YAML"):
        parse_yaml("!!python/object/apply:os.system ['echo pwned']", "s.yaml")  # the safe loader refuses it
