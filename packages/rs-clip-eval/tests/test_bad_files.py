"""Hostile and unlucky files given to ``rs-clip-eval``: each is one line naming the file (or the dataset row)
with exit status 2, never a traceback, a hang or a decompression bomb decoded."""

from __future__ import annotations

import io
import os
import struct
import zlib

import pytest
from PIL import Image

from rs_clip_eval.cli import main
from rs_formats import DatasetWriter


def bomb_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (40, 90, 60)).save(buf, "PNG")
    return buf.getvalue()


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(
        [*args, "--cache-dir", os.environ["RS_CLIP_EVAL_CACHE_TEST"], "--no-progress", "--no-plots", "-q"]
    )
    return code, capsys.readouterr().err


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RS_CLIP_EVAL_CACHE_TEST", str(tmp_path / "cache"))


@pytest.mark.parametrize(
    "content, message",
    [
        (
            b"datasets:\n  - path: caps\n    name: \xff\n",
            ":3: not UTF-8 text (invalid start byte at byte 35)",
        ),
        (
            "datasets: " + "[" * 3000 + "]" * 3000 + "\n",
            ": YAML nested more than 64 levels deep; refusing it",
        ),
        (None, ": is a FIFO (named pipe), not a regular file; refusing to read it"),
    ],
)
def test_a_bad_suite_file_is_one_line_naming_it(tmp_path, capsys, content, message):
    suite = tmp_path / "suite.yaml"
    if content is None:
        os.mkfifo(suite)  # read, it would block for ever
    else:
        suite.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, err = run(capsys, "run", "--model", "RS-Tiny", "--suite", str(suite), "--out", str(tmp_path / "o"))
    assert (code, err) == (2, f"rs-clip-eval: error: {suite}{message}\n")


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_bomb_row_is_one_line_naming_the_row(tmp_path, capsys, workers):
    rows = [
        {
            "image_id": f"x/{i}",
            "source": "x",
            "image": png(),
            "width": 32,
            "height": 32,
            "captions": [f"caption {i} {k}" for k in range(5)],
            "objects": [],
            "phash": i,
        }
        for i in range(6)
    ]
    rows[3]["image"] = bomb_header(50_000, 50_000)
    with DatasetWriter(tmp_path / "caps", name="caps") as w:
        w.write_many(rows, split="test")
    code, err = run(
        capsys,
        "retrieval",
        "--model",
        "RS-Tiny",
        "--data",
        str(tmp_path / "caps"),
        "--out",
        str(tmp_path / "o"),
        "--loader-workers",
        workers,
    )
    assert (code, err) == (
        2,
        f"rs-clip-eval: error: {tmp_path / 'caps'}: split 'test', image 'x/3': image "
        "declares 50000x50000 = 2,500,000,000 pixels, over the limit of 67,108,864 (a "
        "decompression bomb, or a scene to tile first); refusing to decode it\n",
    )


def test_an_empty_class_name_names_the_manifest(tmp_path, capsys):
    rows = [
        {
            "image_id": f"x/{i}",
            "source": "x",
            "image": png(),
            "width": 32,
            "height": 32,
            "label": i % 2,
            "phash": i,
        }
        for i in range(4)
    ]
    with DatasetWriter(
        tmp_path / "scenes", name="scenes", kind="classification", class_names=["plane", "__"]
    ) as w:
        w.write_many(rows, split="test")
    code, err = run(
        capsys,
        "zeroshot",
        "--model",
        "RS-Tiny",
        "--data",
        str(tmp_path / "scenes"),
        "--out",
        str(tmp_path / "o"),
    )
    assert (code, err) == (
        2,
        f"rs-clip-eval: error: {tmp_path / 'scenes' / 'manifest.json'}: class_names[1] is "
        "'__': not a class name\n",
    )
