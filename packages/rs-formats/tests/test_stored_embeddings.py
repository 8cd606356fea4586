"""An rs-clip-embeddings folder in a store (moto's S3 server): written with its manifest last, read back as
a local copy is, and every check a local folder gets (a leftover upload, altered bytes, a name leading
out) is one line naming the object."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import embedding_batches

from rs_formats import DatasetWriter, FormatError
from rs_formats import embeddings as emb
from rs_formats.embeddings import MANIFEST, open_embeddings, write_embeddings
from rs_formats.location import resolve


@pytest.fixture
def several_files(monkeypatch):
    monkeypatch.setattr(emb, "FILE_ROWS", 4)


def test_written_to_a_uri_and_read_back_as_on_disk(s3, tmp_path, several_files):
    uri = f"s3://{s3.bucket}/emb"
    local = write_embeddings(tmp_path / "e", embedding_batches(10), {"model": {"label": "m"}})
    stored = write_embeddings(uri, embedding_batches(10), {"model": {"label": "m"}})
    assert stored["files"] == local["files"] and len(stored["files"]) == 2
    assert resolve(uri).list() == [MANIFEST, *sorted(stored["files"])]
    there, here = open_embeddings(uri), open_embeddings(tmp_path / "e")
    ids, matrix = there.matrix()
    assert ids == here.matrix()[0]
    np.testing.assert_array_equal(matrix, here.matrix()[1])
    there.verify()
    with pytest.raises(FileExistsError, match=f"^{uri}: already exists"):
        write_embeddings(uri, embedding_batches(2), {})
    write_embeddings(uri, embedding_batches(5, seed=1), {}, overwrite=True)
    assert open_embeddings(uri).num_rows == 5 and len(resolve(uri).list()) == 2


def test_an_upload_killed_before_its_manifest_publishes_nothing(s3, monkeypatch):
    import rs_formats.publish as publish

    uri = f"s3://{s3.bucket}/killed"

    def killed(self, data):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(publish.Location, "write_bytes", killed)
        with pytest.raises(KeyboardInterrupt):
            write_embeddings(uri, embedding_batches(6), {})
    assert resolve(uri).list() == ["part-00000.parquet"]
    with pytest.raises(FormatError) as err:
        open_embeddings(uri)
    assert str(err.value) == (
        f"{uri}/{MANIFEST}: missing: this prefix holds no published rs-clip-embeddings folder "
        "(perhaps a write that never finished)"
    )
    write_embeddings(uri, embedding_batches(6), {})  # the leftover is cleared without --overwrite
    assert open_embeddings(uri).num_rows == 6
    (resolve(f"s3://{s3.bucket}/users") / "notes.txt").write_bytes(b"a user's file")
    with pytest.raises(FileExistsError, match="holds notes.txt, not an rs-clip-embeddings"):
        write_embeddings(f"s3://{s3.bucket}/users", embedding_batches(6), {})


def test_altered_objects_and_names_leading_out_are_one_line_naming_them(s3):
    uri = f"s3://{s3.bucket}/tampered"
    write_embeddings(uri, embedding_batches(6), {})
    part = resolve(uri) / "part-00000.parquet"
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))
    with pytest.raises(FormatError) as err:
        open_embeddings(uri).matrix()
    assert (
        str(err.value) == f"{uri}/part-00000.parquet: sha256 differs from the manifest (changed or damaged)"
    )
    manifest = resolve(uri) / MANIFEST
    meta = json.loads(manifest.read_bytes())
    meta["files"] = {"../elsewhere/part-00000.parquet": "0" * 64}
    manifest.write_bytes(json.dumps(meta).encode())
    with pytest.raises(FormatError, match=f"^{uri}/{MANIFEST}: file name .* climbs out with '..'"):
        open_embeddings(uri)
    with pytest.raises(FormatError, match=f"^s3://{s3.bucket}/nothing: no such embeddings folder"):
        open_embeddings(f"s3://{s3.bucket}/nothing")


def test_a_prefix_of_someone_elses_files_is_never_cleared_without_overwrite(s3):
    """Only what an upload of the same contract leaves (its own file names) is cleared unasked; a bucket's
    top is never a target (replacing it would empty the bucket)."""
    mine = resolve(f"s3://{s3.bucket}/mine")
    (mine / "data" / "photo.jpg").write_bytes(b"the user's")
    (mine / "data" / "scenes" / "train-00000-of-00001.parquet").write_bytes(b"the user's too")
    with pytest.raises(FileExistsError, match=f"^{mine}: holds data, not an rs-dataset"):
        DatasetWriter(str(mine), name="w", generator="test")
    with pytest.raises(FileExistsError, match=f"^{mine}: holds data, not an rs-clip-embeddings"):
        write_embeddings(str(mine), embedding_batches(2), {})
    (resolve(f"s3://{s3.bucket}") / "top.csv").write_bytes(b"a,b")
    for overwrite in (False, True):
        with pytest.raises(ValueError, match="not at its top"):
            write_embeddings(f"s3://{s3.bucket}", embedding_batches(2), {}, overwrite=overwrite)
    assert mine.files() == ["data/photo.jpg", "data/scenes/train-00000-of-00001.parquet"]
    assert (resolve(f"s3://{s3.bucket}") / "top.csv").read_bytes() == b"a,b"
    empty = resolve(f"s3://{s3.bucket}/empty")
    empty.make_dir()  # a folder marker and nothing else: written into without overwrite
    write_embeddings(str(empty), embedding_batches(2), {})
    assert open_embeddings(str(empty)).num_rows == 2
