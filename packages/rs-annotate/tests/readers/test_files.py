"""readers/files.py: the file helpers every reader shares."""

import numpy as np
import pytest
from PIL import Image

from rs_annotate.readers import BadInput
from rs_annotate.readers.files import (
    check_same_size,
    image_size,
    index_images,
    load_array,
    names_option,
    read_json,
    read_text,
)
from rs_annotate.readers.imagefolder import IMAGE_EXTENSIONS


def test_read_text_and_json(tmp_path):
    p = tmp_path / "a.txt"
    p.write_bytes("\ufeffline 1\r\nline 2\n".encode())
    assert read_text(p).splitlines() == ["line 1", "line 2"]  # BOM dropped, CRLF kept for splitlines
    p.write_bytes(b"ok \xff\xfe")
    with pytest.raises(BadInput, match="not UTF-8 text .*at byte 3"):
        read_text(p)
    with pytest.raises(BadInput, match="cannot read"):
        read_text(tmp_path / "missing.txt")
    j = tmp_path / "a.json"
    j.write_text('{"images": [1, 2]}')
    assert read_json(j) == {"images": [1, 2]}
    j.write_text('{\n  "images": [\n')
    with pytest.raises(BadInput, match="not valid JSON") as e:
        read_json(j)
    assert e.value.path == j and e.value.line == 3


def test_index_images_and_suffixes(tmp_path):
    for name in ("b.PNG", "a.jpg", "a.tif", "c.txt", "d.webp"):
        (tmp_path / name).write_bytes(b"")
    assert {k: v.name for k, v in index_images(tmp_path).items()} == {"a": "a.jpg", "b": "b.PNG"}
    assert index_images(tmp_path / "absent") == {}
    assert ".webp" in IMAGE_EXTENSIONS and ".png" in IMAGE_EXTENSIONS


def test_options_and_rasters(tmp_path):
    assert names_option("train, val,") == ["train", "val"] and names_option(("a",)) == ["a"]
    Image.fromarray(np.zeros((3, 5), np.uint8)).save(tmp_path / "m.png")
    assert image_size(tmp_path / "m.png") == (5, 3)
    mask = load_array(tmp_path / "m.png", "RGB")
    assert mask.shape == (3, 5, 3)
    check_same_size(mask, tmp_path / "m.png", (5, 3), "the image")
    with pytest.raises(BadInput, match="mask is 5x3 but the image is 6x3"):
        check_same_size(mask, tmp_path / "m.png", (6, 3), "the image")
    (tmp_path / "bad.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(BadInput, match="cannot decode"):
        load_array(tmp_path / "bad.png")
    with pytest.raises(BadInput, match="cannot decode image"):
        image_size(tmp_path / "bad.png")
