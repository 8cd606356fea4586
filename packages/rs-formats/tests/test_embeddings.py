"""The embeddings folder contract: written and read back in order; everything a folder could hold that
would lead the reader astray (names outside it, special files, altered bytes, NaN vectors, a malformed
manifest, a newer version) is one error naming the file."""

from __future__ import annotations

import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import embedding_batches

from rs_formats import FormatError
from rs_formats import embeddings as emb
from rs_formats.embeddings import MANIFEST, open_embeddings, write_embeddings
from rs_formats.hashing import file_sha256


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setattr(emb, "FILE_ROWS", 4)  # several files, so that the manifest lists more than one
    write_embeddings(tmp_path / "e", embedding_batches(10), {"model": {"label": "m"}})
    return tmp_path / "e"


def edit_manifest(folder, **changes):
    meta = json.loads((folder / MANIFEST).read_text())
    meta.update(changes)
    (folder / MANIFEST).write_text(json.dumps(meta))
    return meta


def one_line_error(folder, match: str) -> str:
    with pytest.raises(FormatError) as err:
        open_embeddings(folder).matrix()
    text = str(err.value)
    assert "\n" not in text and match in text, text
    return text


def test_round_trip_in_row_order(folder):
    want_ids, want = zip(*embedding_batches(10))
    ids, matrix = open_embeddings(folder).matrix()
    assert ids == [i for chunk in want_ids for i in chunk]
    np.testing.assert_array_equal(matrix, np.concatenate(want))
    assert len(open_embeddings(folder).files) > 1


@pytest.mark.parametrize("name", ["../elsewhere/x.parquet", "/etc/passwd", "a/../../x.parquet"])
def test_file_names_leading_out_of_the_folder_are_refused(folder, name):
    meta = json.loads((folder / MANIFEST).read_text())
    edit_manifest(folder, files={name: "0" * 64, **meta["files"]})
    text = one_line_error(folder, "must stay inside their folder")
    assert text.startswith(str(folder / MANIFEST))


def test_a_symlink_leading_out_is_refused(folder, tmp_path):
    first = next(iter(json.loads((folder / MANIFEST).read_text())["files"]))
    outside = tmp_path / "outside.parquet"
    os.replace(folder / first, outside)
    os.symlink(outside, folder / first)
    one_line_error(folder, "leads outside")


def test_only_regular_files_are_read(folder):
    meta = json.loads((folder / MANIFEST).read_text())
    os.mkfifo(folder / "pipe.parquet")
    edit_manifest(folder, files={"pipe.parquet": "0" * 64, **meta["files"]})
    one_line_error(folder, "pipe.parquet")


def test_altered_bytes_are_caught_before_the_rows_are_used(folder):
    first = next(iter(json.loads((folder / MANIFEST).read_text())["files"]))
    table = pq.read_table(folder / first)
    pq.write_table(table.slice(0, 2), folder / first)  # a valid Parquet file, not the one listed
    text = one_line_error(folder, "sha256 differs from the manifest")
    assert text.startswith(str(folder / first))


def test_nan_vectors_are_refused_naming_the_image(folder):
    meta = json.loads((folder / MANIFEST).read_text())
    first = next(iter(meta["files"]))
    table = pq.read_table(folder / first)
    flat = table.column("embedding").combine_chunks().flatten().to_numpy().copy()
    flat[4 * 2 + 1] = np.nan  # row 2's second component
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(flat), 4)
    pq.write_table(table.set_column(1, "embedding", vectors), folder / first)
    edit_manifest(folder, files={**meta["files"], first: file_sha256(folder / first)})
    text = one_line_error(folder, "its embedding holds NaN or infinity")
    assert text.startswith(str(folder / first)) and "img/002" in text


@pytest.mark.parametrize(
    "text, match",
    [
        ("{not json", "manifest"),
        ("[]", "format is 'list', expected 'rs-clip-embeddings'"),
        ('{"format": "rs-clip-embeddings", "format_version": 2}', "format_version 2 is not supported"),
        ('{"format": "rs-clip-embeddings", "format_version": 1, "rows": -1, "dim": 4}', "'rows' is -1"),
        (
            '{"format": "rs-clip-embeddings", "format_version": 1, "rows": 1, "dim": 4, "files": []}',
            "'files'",
        ),
        (
            '{"format": "rs-clip-embeddings", "format_version": 1, "rows": 1, "dim": 4, "files": {"a": 1}}',
            "not 64 hex digits",
        ),
    ],
)
def test_a_malformed_manifest_is_one_line_naming_it(folder, text, match):
    (folder / MANIFEST).write_text(text)
    message = one_line_error(folder, match if match != "manifest" else "")
    assert message.startswith(str(folder / MANIFEST))


def test_a_row_count_other_than_the_manifest_says_is_refused(folder):
    edit_manifest(folder, rows=11)
    one_line_error(folder, "lists 11 rows")
