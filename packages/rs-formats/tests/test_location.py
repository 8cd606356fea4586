"""rs_formats.location against moto's S3 server: URIs and paths resolve to one kind of location, files go
in and out through it, and a store's failures are one line naming bucket and key, never a credential."""

from __future__ import annotations

import argparse
import hashlib
import socket
from pathlib import Path

import pytest

from rs_formats.hashing import file_sha256
from rs_formats.location import Location, StorageError, absolute, path_or_uri, resolve

SECRET = "planted-secret-key-0123456789"


@pytest.fixture
def secret(s3, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    return SECRET


def test_paths_and_file_uris_resolve_to_the_same_local_file(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"abc")
    by_path, by_uri = resolve(tmp_path), resolve(f"file://{tmp_path}")
    assert by_path.local == by_uri.local == tmp_path
    assert str(by_path) == str(tmp_path) and str(by_uri) == f"file://{tmp_path}"
    assert (by_uri / "a.bin").read_bytes() == b"abc" and by_path.list() == ["a.bin"]
    assert (by_path / "a.bin").kind() == "file" and (by_path / "nope").kind() == "missing"


def test_a_store_round_trip(s3, secret):
    root = resolve(f"s3://{s3.bucket}/loc/")
    assert isinstance(root, Location) and root.local is None and str(root) == f"s3://{s3.bucket}/loc"
    data = bytes(range(256)) * 1000
    (root / "x" / "blob.bin").write_bytes(data)
    assert file_sha256(root / "x" / "blob.bin") == hashlib.sha256(data).hexdigest()
    assert (root / "x").kind() == "directory" and (root / "x").list() == ["blob.bin"]
    with (root / "x" / "blob.bin").open_input() as f:  # random access: one range, not the object
        assert f.read_at(4, 256 * 999) == bytes(range(4))
    (root / "x").delete()
    assert root.list() == [] and (root / "x" / "blob.bin").kind() == "missing"


def test_a_missing_bucket_and_key_are_one_line_without_credentials(s3, secret):
    with pytest.raises(StorageError) as missing:
        resolve("s3://no-such-bucket/ds/manifest.json").read_bytes()
    line = str(missing.value)
    assert line.startswith("s3://no-such-bucket/ds/manifest.json: cannot read it (endpoint ")
    assert "bucket 'no-such-bucket' does not exist" in line and "\n" not in line and secret not in line
    with pytest.raises(StorageError) as key:
        resolve(f"s3://{s3.bucket}/none/manifest.json").read_bytes()
    assert str(key.value).startswith(f"s3://{s3.bucket}/none/manifest.json: cannot read it")
    assert "\n" not in str(key.value) and secret not in str(key.value)


def test_an_unreachable_endpoint_is_one_line_naming_it(monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"  # nothing listens once it is closed
    monkeypatch.setenv("AWS_ENDPOINT_URL", closed)
    with pytest.raises(StorageError) as err:
        resolve("s3://some-bucket/ds")
    assert str(err.value).startswith(f"s3://some-bucket/ds: endpoint {closed} is unreachable: ")
    assert "\n" not in str(err.value)


def test_denied_access_is_one_line_naming_bucket_and_key_without_the_secret(s3, s3_reader, capsys):
    from rs_formats.cli import main

    (resolve(f"s3://{s3.bucket}/readable") / "x.bin").write_bytes(b"abc")
    (resolve(f"s3://{s3.bucket}/private") / "manifest.json").write_bytes(b"{}")
    with s3_reader() as secret:
        assert resolve(f"s3://{s3.bucket}/readable/x.bin").read_bytes() == b"abc"
        with pytest.raises(StorageError) as err:
            resolve(f"s3://{s3.bucket}/denied/y.bin").write_bytes(b"x")
        assert str(err.value) == (
            f"s3://{s3.bucket}/denied/y.bin: cannot write it (endpoint {s3.url}): "
            "access denied to the credentials in use (CreateMultipartUpload)"
        )
        assert main(["verify", f"s3://{s3.bucket}/private"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"s3://{s3.bucket}/private/manifest.json: cannot" in err, err
    assert "access denied to the credentials in use" in err and secret not in err


def test_a_uri_with_credentials_is_refused_without_repeating_them(s3):
    from rs_formats.outputs import check_output

    uri = f"s3://AKIAEXAMPLE:{SECRET}@{s3.bucket}/ds/x"
    for refuse in (resolve, lambda u: check_output(u, [f"s3://{s3.bucket}/ds"], overwrite=True)):
        with pytest.raises(StorageError) as err:
            refuse(uri)
        line = str(err.value)
        assert line.startswith(f"s3://{s3.bucket}/ds/x: credentials in a URI are refused"), line
        assert SECRET not in line and "AKIAEXAMPLE" not in line
    with pytest.raises(argparse.ArgumentTypeError) as usage:  # a command line's --out, --data, ...
        path_or_uri(uri)
    assert SECRET not in str(usage.value) and "AWS_SECRET_ACCESS_KEY" in str(usage.value)


def test_a_uris_endpoint_options_travel_with_its_location(s3, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL")  # only the URI names the endpoint
    root = resolve(f"s3://{s3.bucket}/opts?endpoint_override={s3.url}")
    assert str(root) == f"s3://{s3.bucket}/opts"  # as messages show it
    (root / "a" / "x.bin").write_bytes(b"x")
    again = absolute(root / "a")  # what another process opens it with
    assert again == f"s3://{s3.bucket}/opts/a?endpoint_override={s3.url}"
    assert resolve(again).list() == ["x.bin"] and root.files() == ["a/x.bin"]
    assert root.folders() == ["a"] and absolute(resolve(str(s3.bucket))) == str(Path(s3.bucket).resolve())
