"""rs-annotate over URIs (moto's S3 server): convert publishes to s3:// with its report beside the dataset,
the same rows as a local conversion; validate, stats, show, merge and dedup read and write s3:// too; the
credential the store is reached with appears in no object, file or message."""

from __future__ import annotations

import json

from rs_annotate.cli import main
from rs_formats import open_dataset
from rs_formats.location import resolve

CONVERT = ["--workers", "1", "--no-progress", "--short-side", "96", "--seed", "1"]


SECRET = "planted-secret-for-rs-annotate-0123456789"


def test_the_commands_take_uris(s3, dota_src, tmp_path, capsys, caplog, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)  # moto takes any: it must appear nowhere
    bucket = f"s3://{s3.bucket}"
    seen = []

    def read():
        seen.append(capsys.readouterr())
        return seen[-1]

    local = tmp_path / "dota"
    assert main(["convert", "dota", str(dota_src), "--out", str(local), *CONVERT]) == 0
    assert main(["convert", "dota", str(dota_src), "--out", f"{bucket}/dota", *CONVERT]) == 0
    assert read().out.strip().endswith(f"{bucket}/dota")
    stored = open_dataset(f"{bucket}/dota")
    for split in open_dataset(local).splits:
        assert stored.read_table(split).equals(open_dataset(local).read_table(split))
    report = json.loads(resolve(f"{bucket}/dota.report.json").read_bytes())
    assert report["out"] == f"{bucket}/dota" and report["rows"] == 8

    assert main(["validate", f"{bucket}/dota"]) == 0
    assert "8 rows, 0 problem(s)" in read().out
    assert main(["stats", f"{bucket}/dota"]) == 0
    assert json.loads(read().out)["path"] == f"{bucket}/dota"
    assert main(["show", f"{bucket}/dota", "--out", str(tmp_path / "sheet.png"), "-n", "4"]) == 0
    assert (tmp_path / "sheet.png").read_bytes()[:4] == b"\x89PNG"

    # an export of the stored set is the export of its local copy, byte for byte
    for where, name in ((str(local), "wds-disk"), (f"{bucket}/dota", "wds-bucket")):
        assert main(["export", "webdataset", where, "--out", str(tmp_path / name), "-q"]) == 0
    tars = sorted(p.relative_to(tmp_path / "wds-disk") for p in (tmp_path / "wds-disk").rglob("*.tar"))
    assert tars and all(
        (tmp_path / "wds-disk" / t).read_bytes() == (tmp_path / "wds-bucket" / t).read_bytes() for t in tars
    )
    assert json.loads((tmp_path / "wds-bucket" / "export.json").read_text())["dataset"] == f"{bucket}/dota"

    # dedup of the stored set against its local copy leaves nothing: refused, with the report in the store
    assert main(["dedup", f"{bucket}/dota", "--against", str(local), "--out", f"{bucket}/none"]) == 2
    assert "empty dataset" in read().err
    assert json.loads(resolve(f"{bucket}/none.report.json").read_bytes())["rows_out"] == 0
    assert main(["merge", f"{bucket}/dota", "--out", f"{bucket}/merged", "--name", "m"]) == 0
    assert open_dataset(f"{bucket}/merged").read_table("train").equals(stored.read_table("train"))
    assert main(["merge", str(local), "--out", f"{bucket}/merged"]) == 2
    assert f"{bucket}/merged: already exists" in read().err
    # an --out in the store over, inside or around an input there is refused before anything is written
    for out, how in ((f"{bucket}/dota", "is"), (f"{bucket}/dota/x", "lies inside"), (bucket, "contains")):
        assert main(["merge", f"{bucket}/dota", "--out", out, "--overwrite"]) == 2
        assert f"--out {how} the input {bucket}/dota" in read().err
    assert open_dataset(f"{bucket}/dota").read_table("train").equals(stored.read_table("train"))
    # --overwrite replaces a dataset we wrote, never a prefix of someone else's files
    (resolve(f"{bucket}/theirs") / "photo.jpg").write_bytes(b"x")
    assert main(["merge", str(local), "--out", f"{bucket}/theirs", "--overwrite"]) == 2
    assert "holds files no rs-clip tool wrote" in read().err
    assert main(["merge", str(local), "--out", f"{bucket}/merged", "--overwrite"]) == 0

    # The secret is in no object written, no file, no message.
    store = resolve(bucket)
    objects = [store / name for name in store.list()]
    while objects:
        where = objects.pop()
        if where.kind() == "directory":
            objects += [where / name for name in where.list()]
        else:
            assert SECRET.encode() not in where.read_bytes(), where
    assert all(SECRET.encode() not in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert all(SECRET not in text for c in seen for text in (c.out, c.err)) and SECRET not in caplog.text


def test_a_conversion_to_a_prefix_the_credentials_may_not_write_is_one_line(s3, s3_reader, dota_src, capsys):
    with s3_reader() as secret:
        assert (
            main(["convert", "dota", str(dota_src), "--out", f"s3://{s3.bucket}/denied/dota", *CONVERT]) == 2
        )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"rs-annotate: error: s3://{s3.bucket}/denied/dota"), err
    assert "access denied to the credentials in use" in err and secret not in err
