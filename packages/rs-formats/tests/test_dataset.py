from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import make_row

from rs_formats import DatasetWriter, FormatError, open_dataset, read_manifest, verify_dataset


def write(path: Path, rows, **kw) -> Path:
    with DatasetWriter(path, name="t", generator="test", **kw) as w:
        for i, r in enumerate(rows):
            w.write(r, split="test" if i % 4 == 3 else "train")
    return path


def test_round_trip_keeps_every_value(tmp_path, rows):
    ds = open_dataset(write(tmp_path / "ds", rows))
    got = {r["image_id"]: r for s in ds.splits for r in ds.iter_rows(s)}
    assert len(got) == len(rows)
    for r in rows:
        g = got[r["image_id"]]
        for key in ("source", "image", "width", "height", "captions", "phash"):
            assert g[key] == r[key]
        assert g["objects"] == r["objects"]
        assert g["label"] is None and g["meta"] is None
    assert ds.num_rows("train") == 30 and ds.num_rows("test") == 10
    assert ds.manifest["splits"]["train"]["rows"] == 30


def test_shards_are_bounded_and_rows_stay_in_order(tmp_path, rows):
    ds = open_dataset(write(tmp_path / "ds", rows, max_shard_bytes=2_000, row_group_rows=3))
    shards = ds.manifest["splits"]["train"]["shards"]
    assert len(shards) > 3
    assert [r["image_id"] for r in ds.iter_rows("train")] == [
        r["image_id"] for i, r in enumerate(rows) if i % 4 != 3
    ]


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_n_readers_partition_the_rows(tmp_path, rows, n):
    ds = open_dataset(write(tmp_path / "ds", rows, row_group_rows=4))
    parts = [[r["image_id"] for r in ds.iter_rows("train", ["image_id"], i, n)] for i in range(n)]
    flat = [x for p in parts for x in p]
    assert sorted(flat) == sorted(r["image_id"] for i, r in enumerate(rows) if i % 4 != 3)
    assert len(flat) == len(set(flat))
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 4  # balanced to one row group


def test_unknown_format_version_is_refused_naming_the_manifest(tmp_path, rows):
    path = write(tmp_path / "ds", rows)
    m = json.loads((path / "manifest.json").read_text())
    m["format_version"] = 3
    (path / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(FormatError, match=r"manifest\.json: format_version 3 is not supported"):
        open_dataset(path)


def test_not_a_dataset(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FormatError, match="no manifest.json"):
        open_dataset(tmp_path / "empty")
    with pytest.raises(FormatError, match="no such dataset directory"):
        open_dataset(tmp_path / "missing")
    (tmp_path / "empty" / "manifest.json").write_text('{"format": "rs-dataset",\n "format_version": }')
    with pytest.raises(FormatError, match=r"manifest\.json:2: not valid JSON"):
        read_manifest(tmp_path / "empty")


def test_missing_shard(tmp_path, rows):
    path = write(tmp_path / "ds", rows)
    (path / "data" / "test-00000-of-00001.parquet").unlink()
    with pytest.raises(FormatError, match=r"data/test-00000-of-00001\.parquet: missing"):
        open_dataset(path)


def test_truncated_shard(tmp_path, rows):
    path = write(tmp_path / "ds", rows)
    shard = path / "data" / "train-00000-of-00001.parquet"
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    with pytest.raises(FormatError, match=r"train-00000-of-00001\.parquet: not a readable Parquet file"):
        open_dataset(path)


def test_checksum_corruption_is_detected(tmp_path, rows):
    path = write(tmp_path / "ds", rows)
    shard = path / "data" / "train-00000-of-00001.parquet"
    data = bytearray(shard.read_bytes())
    data[200] ^= 0xFF  # inside page data: the footer still parses
    shard.write_bytes(bytes(data))
    with pytest.raises(FormatError, match=r"train-00000-of-00001\.parquet: sha256 mismatch"):
        verify_dataset(path)
    with pytest.raises(FormatError, match=r"train-00000-of-00001\.parquet: row group 0: sha256 mismatch"):
        open_dataset(path).read_table()  # reading checks each row group it reads


def test_schema_mismatch(tmp_path, rows):
    path = write(tmp_path / "ds", rows)
    shard = path / "data" / "train-00000-of-00001.parquet"
    table = pq.read_table(shard).drop_columns(["width"])
    pq.write_table(table, shard)
    with pytest.raises(FormatError, match=r"train-00000-of-00001\.parquet: column 'width' is missing"):
        open_dataset(path)


def test_bad_row_is_named_and_nothing_is_published(tmp_path):
    out = tmp_path / "ds"
    with pytest.raises(ValueError, match="synthetic/00001"):
        with DatasetWriter(out, name="t", row_group_rows=2) as w:
            w.write(make_row(0))
            w.write(make_row(1, width="wide"))
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".ds.tmp")]


def test_duplicate_ids_are_refused(tmp_path):
    with pytest.raises(ValueError, match="duplicate image_id"):
        with DatasetWriter(tmp_path / "ds", name="t") as w:
            w.write(make_row(0))
            w.write(make_row(0))


def test_existing_dataset_is_not_clobbered(tmp_path, rows):
    path = write(tmp_path / "ds", rows[:4])
    with pytest.raises(FileExistsError):
        write(path, rows)
    write(path, rows, overwrite=True)
    assert open_dataset(path).num_rows("train") == 30


def test_published_directory_has_the_permissions_of_any_new_directory(tmp_path, rows):
    (tmp_path / "plain").mkdir()
    path = write(tmp_path / "ds", rows[:2])
    assert path.stat().st_mode == (tmp_path / "plain").stat().st_mode


def test_killed_writer_leaves_no_valid_looking_dataset(tmp_path):
    out = tmp_path / "ds"
    script = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from conftest import make_row
        from rs_formats import DatasetWriter
        with DatasetWriter({str(out)!r}, name="t", row_group_rows=2, max_shard_bytes=1000) as w:
            for i in range(100000):
                w.write(make_row(i))
                if i == 50:
                    print("writing", flush=True)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".ds.tmp-")]
    assert leftovers, "the staging directory should be where the partial data went"
    for p in leftovers:
        with pytest.raises(FormatError):
            open_dataset(p)


def test_classification_needs_class_names(tmp_path):
    with pytest.raises(ValueError, match="class_names"):
        DatasetWriter(tmp_path / "ds", name="t", kind="classification")
    with DatasetWriter(tmp_path / "ds", name="t", kind="classification", class_names=["a", "b"]) as w:
        w.write(make_row(0, label=1))
    ds = open_dataset(tmp_path / "ds")
    assert ds.class_names == ["a", "b"] and next(ds.iter_rows())["label"] == 1


def test_row_groups_read_one_by_one_cover_the_split_in_order(tmp_path, rows):
    ds = open_dataset(write(tmp_path / "ds", rows, row_group_rows=3))
    groups = ds.row_groups("train")
    ids = [
        i
        for g in range(len(groups))
        for i in ds.read_row_group("train", g, ["image_id"]).column(0).to_pylist()
    ]
    assert ids == [r["image_id"] for r in ds.iter_rows("train", ["image_id"])]
    assert [ds.read_row_group("train", g).num_rows for g in range(len(groups))] == [
        g.num_rows for g in groups
    ]
