"""An rs-dataset in a store (moto's S3 server): read, partitioned, verified and shown through its URI, as
its local copy is; a corrupted shard is named, by verify and by the reader of the row group it spoils; a
prefix without a manifest is refused as unpublished."""

from __future__ import annotations

import pyarrow.fs
import pytest
from conftest import make_row

from rs_formats import FormatError
from rs_formats.cli import main
from rs_formats.dataset import DatasetWriter, open_dataset, verify_dataset
from rs_formats.location import resolve


@pytest.fixture(scope="module")
def stored(s3, tmp_path_factory):
    """A two-split dataset written locally and copied under ``s3://BUCKET/ds``; yields (local, uri)."""
    local = tmp_path_factory.mktemp("stored") / "ds"
    with DatasetWriter(local, name="t", generator="test", row_group_rows=4, max_shard_bytes=20000) as w:
        w.write_many((make_row(i) for i in range(30)), "train")
        w.write_many((make_row(i) for i in range(30, 37)), "test")
    uri = f"s3://{s3.bucket}/ds"
    pyarrow.fs.copy_files(str(local), uri)
    return local, uri


def test_a_stored_dataset_reads_as_its_local_copy(stored):
    local, uri = stored
    here, there = open_dataset(local), open_dataset(uri)
    assert str(there.path) == uri and there.manifest == here.manifest and there.name == "t"
    shards = there.manifest["splits"]["train"]["shards"]
    assert 1 < len(shards) < len(there.row_groups("train"))  # several shards, several row groups each
    for split in ("train", "test"):
        assert there.read_table(split).equals(here.read_table(split))
    ids = [r["image_id"] for k in range(3) for r in there.iter_rows("train", ["image_id"], k, 3)]
    assert sorted(ids) == sorted(r["image_id"] for r in here.iter_rows("train", ["image_id"]))
    assert there.read_row_group("train", 2).equals(here.read_row_group("train", 2))
    assert there.manifest_sha256() == here.manifest_sha256()


def test_verify_and_info_take_the_uri(stored, capsys):
    local, uri = stored
    report = verify_dataset(uri)
    assert report["splits"] == verify_dataset(local)["splits"] and report["path"] == uri
    assert main(["verify", uri]) == 0 and capsys.readouterr().out.rstrip().endswith(f"ok: {uri}")
    assert main(["info", uri]) == 0 and '"name": "t"' in capsys.readouterr().out


def test_a_corrupted_shard_is_named(s3, stored, capsys):
    local, _ = stored
    uri = f"s3://{s3.bucket}/corrupt"
    pyarrow.fs.copy_files(str(local), uri)
    fs, path = pyarrow.fs.FileSystem.from_uri(uri)
    shard = "data/" + open_dataset(local).manifest["splits"]["train"]["shards"][1]
    data = bytearray((local / shard).read_bytes())
    data[200] ^= 0xFF  # inside the image bytes (stored uncompressed): Parquet still reads
    with fs.open_output_stream(f"{path}/{shard}") as f:
        f.write(bytes(data))
    with pytest.raises(FormatError, match=rf"^{uri}/{shard}: sha256 mismatch"):
        verify_dataset(uri)
    # Readers check each row group they read: the one holding byte 200 (shard 1's first) is refused by the
    # worker it is dealt to, naming the shard; the other workers read theirs.
    ds, groups = open_dataset(uri), open_dataset(local).row_groups("train")
    spoilt = next(i for i, g in enumerate(groups) if g.shard.name == shard[5:] and g.index == 0)
    for worker in range(3):
        if spoilt % 3 == worker:
            with pytest.raises(FormatError, match=rf"^{uri}/{shard}: row group 0: sha256 mismatch"):
                list(ds.iter_rows("train", ["image_id"], worker, 3))
        else:
            rows = list(ds.iter_rows("train", ["image_id"], worker, 3))
            assert len(rows) == sum(g.num_rows for g in groups[worker::3])
    with pytest.raises(FormatError, match=rf"^{uri}/{shard}: row group 0: sha256 mismatch"):
        ds.read_row_group("train", spoilt)
    assert main(["verify", uri]) == 2
    assert capsys.readouterr().err.startswith(f"rs-formats: error: {uri}/{shard}: sha256 mismatch")


def test_a_prefix_without_a_manifest_is_not_a_published_dataset(s3, stored, capsys):
    local, _ = stored
    uri = f"s3://{s3.bucket}/unfinished"
    pyarrow.fs.copy_files(str(local / "data"), f"{uri}/data")  # shards, but no manifest: never published
    assert main(["info", uri]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"rs-formats: error: {uri}/manifest.json: missing: this prefix holds no published rs-dataset "
        "(perhaps a write that never finished)"
    )
    with pytest.raises(FormatError, match="nothing is stored under this prefix"):
        open_dataset(f"s3://{s3.bucket}/nothing-here")
    assert main(["verify", "s3://no-such-bucket/ds"]) == 2
    assert capsys.readouterr().err.strip() == (
        "rs-formats: error: s3://no-such-bucket/ds: no such dataset (bucket 'no-such-bucket' does not exist)"
    )


def test_a_writer_publishes_to_a_uri_with_the_manifest_last(s3, stored, monkeypatch):
    local, _ = stored
    uri = f"s3://{s3.bucket}/written"

    def write(n: int, **kw):
        with DatasetWriter(uri, name="w", generator="test", row_group_rows=4, **kw) as w:
            w.write_many(make_row(i) for i in range(n))
        return w

    assert str(write(10).finish()) == uri
    ds = open_dataset(uri)
    assert ds.num_rows() == 10 and verify_dataset(uri)["splits"]["train"]["rows"] == 10
    assert ds.read_table().equals(open_dataset(local).read_table().slice(0, 10))
    with pytest.raises(FileExistsError, match=f"^{uri}: already exists"):
        write(3)
    assert open_dataset(uri).num_rows() == 10

    # A publication killed before its manifest leaves shards that are not a dataset, and a new writer
    # replaces them without being asked to overwrite.
    import rs_formats.publish as publish

    def killed(self, data):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(publish.Location, "write_bytes", killed)
        with pytest.raises(KeyboardInterrupt):
            write(5, overwrite=True)
    with pytest.raises(FormatError, match="no published rs-dataset"):
        open_dataset(uri)
    write(7)
    assert open_dataset(uri).num_rows() == 7 and verify_dataset(uri)["splits"]["train"]["rows"] == 7
    (resolve(f"s3://{s3.bucket}/other") / "notes.txt").write_bytes(b"a user's file")
    with pytest.raises(FileExistsError, match="holds notes.txt, not an rs-dataset"):  # not ours to replace
        DatasetWriter(f"s3://{s3.bucket}/other", name="w")
    with pytest.raises(ValueError, match="under a prefix in a bucket"):
        DatasetWriter(f"s3://{s3.bucket}", name="w")


def test_a_stored_footer_declaring_more_rows_than_bytes_is_refused_on_opening(s3, stored, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    local, _ = stored
    uri = f"s3://{s3.bucket}/hostile"
    pyarrow.fs.copy_files(str(local), uri)
    shard = "data/" + open_dataset(local).manifest["splits"]["test"]["shards"][0]
    n = 2_000_000  # a few KB claiming two million rows
    pq.write_table(pa.table({"image_id": pa.nulls(n, pa.string())}), tmp_path / "big.parquet")
    resolve(f"{uri}/{shard}").write_bytes((tmp_path / "big.parquet").read_bytes())
    with pytest.raises(
        FormatError, match=rf"^{uri}/{shard}: its footer declares 2,000,000 rows in a file of"
    ):
        open_dataset(uri)
