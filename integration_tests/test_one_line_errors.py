"""A user's own mistakes end in one line naming what was wrong (the file, the dataset row or the flag) and
exit status 2, never a traceback from deep in a library. Each case builds its own input."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from rs_annotate.cli import main as annotate
from rs_count.cli import main as count
from rs_formats import DatasetWriter
from rs_formats.cli import main as formats
from rs_synth.cli import main as synth


def _png(size: int = 16) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), (90, 120, 60)).save(buf, "PNG")
    return buf.getvalue()


def _one_line(code: int, capsys) -> str:
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.fixture(scope="module")
def dota(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("src") / "dota"
    assert synth(["dota", "--out", str(root), "--n", "2", "--size", "64", "-q"]) == 0
    return root


def _hf(root: Path, image: pa.Array, label: pa.Array) -> Path:
    """A Hugging Face Parquet classification set: an Image and a ClassLabel feature over given columns."""
    features = {"image": {"_type": "Image"}, "label": {"_type": "ClassLabel", "names": ["farm", "forest"]}}
    meta = {b"huggingface": json.dumps({"info": {"features": features}}).encode()}
    (root / "data").mkdir(parents=True)
    table = pa.table({"image": image, "label": label}).replace_schema_metadata(meta)
    pq.write_table(table, root / "data" / "train-00000-of-00001.parquet")
    return root


IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


def test_hf_columns_of_the_wrong_type(tmp_path, capsys):
    images = pa.array([{"bytes": _png(), "path": None}] * 2, IMAGE)
    src = _hf(tmp_path / "text-labels", images, pa.array(["farm", "forest"]))
    err = _one_line(
        annotate(["convert", "hf-classification", str(src), "--out", str(tmp_path / "o")]), capsys
    )
    assert "label column 'label' is string, not the integers of a ClassLabel" in err
    text_bytes = pa.array(
        [{"bytes": "abc", "path": None}] * 2, pa.struct([("bytes", pa.string()), ("path", pa.string())])
    )
    src = _hf(tmp_path / "text-bytes", text_bytes, pa.array([0, 1]))
    err = _one_line(
        annotate(["convert", "hf-classification", str(src), "--out", str(tmp_path / "o")]), capsys
    )
    assert "image column 'image' is struct<bytes: string, path: string>, not struct<bytes: binary" in err


def test_a_footer_declaring_more_rows_than_bytes_is_refused_before_rows_are_listed(tmp_path, capsys):
    n = 2_000_000
    src = _hf(tmp_path / "hf", pa.nulls(n, IMAGE), pa.array([0] * n, pa.int8()))
    shard = src / "data" / "train-00000-of-00001.parquet"
    assert shard.stat().st_size < 100_000  # a few KB claiming two million rows
    err = _one_line(
        annotate(["convert", "hf-classification", str(src), "--out", str(tmp_path / "o")]), capsys
    )
    assert f"{shard}: its footer declares 2,000,000 rows in a file of" in err
    ds = tmp_path / "ds"
    with DatasetWriter(ds, name="ds", kind="captions", generator="test") as w:
        w.write(
            {"image_id": "a", "source": "t", "image": _png(), "width": 16, "height": 16, "captions": ["x"]}
        )
    (ds / "data" / "train-00000-of-00001.parquet").write_bytes(shard.read_bytes())
    err = _one_line(formats(["info", str(ds)]), capsys)
    assert "its footer declares 2,000,000 rows" in err


def test_merge_names_the_dataset_of_a_row_without_an_image(tmp_path, capsys):
    ds = tmp_path / "ds"
    with DatasetWriter(ds, name="ds", kind="captions", generator="test") as w:
        w.write(
            {"image_id": "a/1", "source": "t", "image": _png(), "width": 16, "height": 16, "captions": ["x"]}
        )
    shard = ds / "data" / "train-00000-of-00001.parquet"
    table = pq.read_table(shard)
    i = table.schema.get_field_index("image")
    table = table.set_column(i, table.schema.field(i), pa.nulls(1, table.schema.field(i).type))
    pq.write_table(table, shard)
    manifest = json.loads((ds / "manifest.json").read_text())
    del manifest["splits"]["train"]["row_group_sha256"]  # as a writer without row-group checksums left it
    (ds / "manifest.json").write_text(json.dumps(manifest))
    err = _one_line(annotate(["merge", str(ds), "--out", str(tmp_path / "m")]), capsys)
    assert f"{ds}: split 'train': row 'a/1' has no 'image'" in err


def test_flags_out_of_range_are_named(dota, tmp_path, capsys):
    ds = tmp_path / "ds"
    with DatasetWriter(ds, name="ds", kind="captions", generator="test") as w:
        w.write(
            {"image_id": "a", "source": "t", "image": _png(), "width": 16, "height": 16, "captions": ["x"]}
        )
    err = _one_line(annotate(["show", str(ds), "--out", str(tmp_path / "s.png"), "--columns", "0"]), capsys)
    assert "--columns must be >= 1, got 0" in err
    out = str(tmp_path / "o")
    err = _one_line(annotate(["convert", "dota", str(dota), "--out", out, "--short-side", "-5"]), capsys)
    assert "--short-side must be >= 0 (0 keeps the size), got -5" in err
    labels, images = str(dota / "labelTxt"), str(dota / "images")
    err = _one_line(
        count(["build", "--labels", labels, "--images", images, "--out", out, "--short-side", "-5"]), capsys
    )
    assert "--short-side must be at least 16 px, got -5" in err


def test_an_unreadable_label_folder_is_not_called_missing(dota, tmp_path, capsys, monkeypatch):
    labels = dota / "labelTxt"
    scandir = os.scandir

    def denied(path=".", *args):
        if Path(path) == labels:
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path, *args)

    with monkeypatch.context() as m:  # root reads every folder: what chmod 000 does for other users
        m.setattr(os, "scandir", denied)
        err = _one_line(
            annotate(["convert", "dota", str(dota), "--out", str(tmp_path / "o"), "--workers", "1"]), capsys
        )
        assert f"{labels}: unreadable folder: Permission denied" in err
        build = [
            "build",
            "--labels",
            str(labels),
            "--images",
            str(dota / "images"),
            "--out",
            str(tmp_path / "o"),
        ]
        assert f"{labels}: unreadable folder: Permission denied" in _one_line(count(build), capsys)
    src = tmp_path / "src"
    (src / "images").mkdir(parents=True)
    (src / "labelTxt").write_text("a file where the label folder belongs\n")
    err = _one_line(annotate(["convert", "dota", str(src), "--out", str(tmp_path / "o")]), capsys)
    assert f"{src / 'labelTxt'}: is a file, not a folder" in err


def test_rs_count_eval_refuses_a_class_remotecount_does_not_count(tmp_path, capsys):
    ds = tmp_path / "cnt"
    with DatasetWriter(ds, name="cnt", kind="counting", generator="test") as w:
        row = {"source": "t", "image": _png(), "width": 16, "height": 16, "captions": ["x"], "count": 3}
        w.write({**row, "image_id": "c/1", "count_label": "plane"}, split="test")
        w.write({**row, "image_id": "c/2", "count_label": "car"}, split="test")
    err = _one_line(
        count(["eval", "--model", "RS-Tiny", "--data", str(ds), "--out", str(tmp_path / "r")]), capsys
    )
    assert f"{ds / 'manifest.json'}: image 'c/2' counts 'car', not one of RemoteCount's classes" in err


def test_a_label_file_over_the_cap_is_refused_before_it_is_read(dota, tmp_path, capsys):
    from rs_formats.inputs import MAX_TEXT_BYTES

    src = tmp_path / "dota"
    (src / "labelTxt").mkdir(parents=True)
    (src / "images").symlink_to(dota / "images")
    label = src / "labelTxt" / "P0000.txt"
    with open(label, "wb") as f:  # sparse: the size says 1 GiB, the disk holds nothing
        f.truncate(1 << 30)
    assert (1 << 30) > MAX_TEXT_BYTES
    err = _one_line(
        annotate(["convert", "dota", str(src), "--out", str(tmp_path / "o"), "--workers", "1"]), capsys
    )
    assert f"{label}: is 1,073,741,824 bytes, over the {MAX_TEXT_BYTES:,} a text input may hold" in err


def test_rs_count_import_with_a_huge_csv_field(dota, tmp_path, capsys):
    ann = tmp_path / "a.csv"
    ann.write_text("image,class,count\nP0000.png,plane,2\n" + "P0001.png,plane," + "9" * 200_000 + "\n")
    args = ["import", str(ann), "--images", str(dota / "images"), "--out", str(tmp_path / "o")]
    err = _one_line(count(args), capsys)
    assert f"{ann}:3: not valid CSV: field larger than field limit (131072)" in err


def test_evaluation_refuses_a_strip_image_from_its_header(tmp_path, capsys):
    from rs_clip_eval.cli import main as clip_eval

    strip = io.BytesIO()
    Image.new("RGB", (2_000_000, 1)).save(strip, "PNG")  # 2 Mpx, under every pixel limit
    ds = tmp_path / "strip"
    with DatasetWriter(ds, name="strip", kind="captions", generator="test") as w:
        row = {"source": "t", "captions": ["x"]}
        w.write(
            {**row, "image_id": "s/0", "image": strip.getvalue(), "width": 2_000_000, "height": 1}, "test"
        )
        w.write({**row, "image_id": "s/1", "image": _png(), "width": 16, "height": 16}, "test")
    args = [
        "retrieval",
        "--model",
        "RS-Tiny",
        "--data",
        str(ds),
        "--out",
        str(tmp_path / "r"),
        "--no-cache",
        "-q",
    ]
    err = _one_line(clip_eval(args), capsys)
    assert (
        f"{ds}: split 'test', image 's/0': image declares 2000000x1, a side over the limit of 65,536" in err
    )
