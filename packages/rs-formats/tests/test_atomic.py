"""rs_formats.atomic: umask permissions on what is published (checkpoints: rs-clip-models' test_checkpoint.py), staging of killed runs, a full disk."""

from __future__ import annotations

import errno
import logging
import os
import subprocess
import sys

import pytest
from conftest import make_row

from rs_formats import DatasetWriter, atomic


@pytest.fixture
def umask():
    old = os.umask(0o022)
    os.umask(old)

    def set_mask(mask: int) -> None:
        os.umask(mask)

    yield set_mask
    os.umask(old)


def modes(root) -> set[tuple[str, str]]:
    out = {("dir", oct(root.stat().st_mode & 0o777))}
    for path in root.rglob("*"):
        out.add(("dir" if path.is_dir() else "file", oct(path.stat().st_mode & 0o777)))
    return out


@pytest.mark.parametrize("mask, files, dirs", [(0o022, "0o644", "0o755"), (0o027, "0o640", "0o750")])
def test_published_datasets_get_the_umask_modes(tmp_path, umask, mask, files, dirs):
    umask(mask)
    with DatasetWriter(tmp_path / "ds", name="t") as w:
        w.write(make_row(0))
    assert modes(tmp_path / "ds") == {("dir", dirs), ("file", files)}


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_staging_of_a_killed_run_is_removed_by_the_next_run(tmp_path, caplog):
    out = tmp_path / "ds"
    killed = tmp_path / f".ds.tmp-{atomic._HOST}-{dead_pid()}-0123456789ab"
    running = tmp_path / f".ds.tmp-{atomic._HOST}-{os.getpid()}-0123456789ab"
    elsewhere = tmp_path / ".ds.tmp-otherhost-1234-0123456789ab"
    unrelated = tmp_path / f".dsx.tmp-{atomic._HOST}-{dead_pid()}-0123456789ab"
    for d in (killed, running, elsewhere, unrelated):
        (d / "train-00000.parquet").parent.mkdir()
        (d / "train-00000.parquet").write_bytes(b"half")
    with caplog.at_level(logging.WARNING, logger="rs_formats"), DatasetWriter(out, name="t") as w:
        w.write(make_row(0))
    assert not killed.exists() and running.exists() and elsewhere.exists() and unrelated.exists()
    assert f"{killed}: removed the staging directory of an interrupted run" in caplog.text
    assert f"{elsewhere}: staging directory of a run of process 1234 on host otherhost" in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [out.name, running.name, elsewhere.name, unrelated.name]
    )


def test_a_full_disk_is_one_error_naming_the_output_and_nothing_is_left(tmp_path, monkeypatch):
    from rs_formats.dataset import writer as writer_module

    def staging_on_a_full_disk(target):
        tmp = atomic.staging_dir(target)
        (tmp / "data").mkdir()
        (tmp / "data" / "train-00000.parquet").symlink_to("/dev/full")  # every write there fails with ENOSPC
        return tmp

    monkeypatch.setattr(writer_module, "staging_dir", staging_on_a_full_disk)
    out = tmp_path / "ds"
    with pytest.raises(OSError) as info, atomic.naming(out), DatasetWriter(out, name="t") as w:
        w.write_many([make_row(i) for i in range(300)])
    assert (info.value.errno, info.value.filename) == (errno.ENOSPC, str(out))
    assert info.value.strerror == "No space left on device; nothing was published"
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_text_leaves_no_temporary_file_when_it_fails(tmp_path, monkeypatch):
    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(type(tmp_path), "write_text", full)
    with pytest.raises(OSError) as info:
        atomic.atomic_write_text(tmp_path / "report.json", "{}")
    assert info.value.filename == str(tmp_path / "report.json") and list(tmp_path.iterdir()) == []


def test_a_failed_overwrite_puts_the_previous_version_back(tmp_path, monkeypatch):
    out = tmp_path / "out"
    with atomic.atomic_dir(out) as tmp:
        (tmp / "a.txt").write_text("old")
    real_replace = os.replace

    def failing(src, dst):
        if ".tmp-" in os.fspath(src):
            raise OSError(errno.EXDEV, "Invalid cross-device link", os.fspath(src))
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", failing)
    with pytest.raises(OSError), atomic.atomic_dir(out, overwrite=True) as tmp:
        (tmp / "a.txt").write_text("new")
    assert (out / "a.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no .out.old-* nor .out.tmp-*
