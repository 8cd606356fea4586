"""rs_formats.outputs.check_output: no output over, inside or around an input; --overwrite only over ours."""

from __future__ import annotations

import json

import pytest

from rs_formats import FormatError
from rs_formats.outputs import check_output, written_by_us


def test_overlap_is_judged_on_real_paths(tmp_path):
    src = tmp_path / "src"
    (src / "labels").mkdir(parents=True)
    (tmp_path / "link").symlink_to(src)
    for out, how in (
        (tmp_path / "link", "is"),
        (tmp_path / "link" / "labels" / "x", "lies inside"),
        (tmp_path, "contains"),
    ):
        with pytest.raises(FormatError, match=f"--out {how} the input"):
            check_output(out, [None, src])
    assert check_output(tmp_path / "src2", [src]) == tmp_path / "src2"  # a shared name prefix is no overlap


@pytest.mark.parametrize(
    "name, content, ours",
    [
        ("manifest.json", {"format": "rs-dataset", "format_version": 1}, True),
        ("manifest.json", {"format": "rs-clip-checkpoint"}, True),
        ("embeddings.json", {"format": "rs-clip-embeddings"}, True),
        ("_truth.json", {"format": "dota", "seed": 0, "size": 64, "images": []}, True),
        ("manifest.json", {"format": "someone-elses"}, False),
        ("_truth.json", ["not", "ours"], False),
    ],
)
def test_overwrite_replaces_only_our_own_folders(tmp_path, name, content, ours):
    out = tmp_path / "out"
    out.mkdir()
    check_output(out, [], overwrite=True)  # empty: fine
    (out / name).write_text(json.dumps(content))
    assert (written_by_us(out) is not None) == ours
    if ours:
        check_output(out, [], overwrite=True)
    else:
        with pytest.raises(FormatError, match="no rs-clip tool wrote"):
            check_output(out, [], overwrite=True)
    check_output(out, [], overwrite=None)  # writing files into it replaces nothing


def test_overwrite_never_replaces_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(FormatError, match="exists and is not a folder"):
        check_output(tmp_path / "f", [], overwrite=True)


def test_a_stores_output_overlaps_by_bucket_and_prefix(s3, tmp_path):
    src = f"s3://{s3.bucket}/src"
    for out, how in ((src, "is"), (f"{src}/data/x", "lies inside"), (f"s3://{s3.bucket}", "contains")):
        with pytest.raises(FormatError, match=f"--out {how} the input {src}"):
            check_output(out, [tmp_path, src])
    other = f"gs://{s3.bucket}/src/x"  # another store's bucket of the same name: never the same place
    assert check_output(f"s3://{s3.bucket}/src2", [src, other, tmp_path]).path == f"{s3.bucket}/src2"
    with pytest.raises(FormatError, match="--out contains the input"):  # a file:// URI is a local path
        check_output(f"file://{tmp_path}", [tmp_path / "a"])


def test_overwrite_in_a_store_replaces_only_our_own_prefixes(s3):
    import pyarrow.fs

    fs = pyarrow.fs.S3FileSystem(endpoint_override=s3.url)
    out = f"s3://{s3.bucket}/out"
    check_output(out, [], overwrite=True)  # nothing there yet
    with fs.open_output_stream(f"{s3.bucket}/out/data/train-00000-of-00002.parquet") as f:
        f.write(b"x")  # a dataset's upload that never finished
    check_output(out, [], overwrite=True)
    with fs.open_output_stream(f"{s3.bucket}/out/data/a.parquet") as f:  # not a shard: somebody's file
        f.write(b"x")
    with pytest.raises(FormatError, match="no rs-clip tool wrote"):
        check_output(out, [], overwrite=True)
    fs.delete_file(f"{s3.bucket}/out/data/a.parquet")
    with fs.open_output_stream(f"{s3.bucket}/out/photo.jpg") as f:
        f.write(b"x")
    with pytest.raises(FormatError, match="no rs-clip tool wrote"):
        check_output(out, [], overwrite=True)
    with fs.open_output_stream(f"{s3.bucket}/out/manifest.json") as f:
        f.write(json.dumps({"format": "rs-dataset"}).encode())
    assert written_by_us(check_output(out, [], overwrite=True)) == "manifest.json"
    with pytest.raises(FormatError, match="exists and is not a folder"):
        check_output(f"{out}/photo.jpg", [], overwrite=True)
