"""rs_clip_train.storage's node-side rules, without Ray: where a node's working copy is, and which record
of the run rank 0 continues when an attempt starts."""

from __future__ import annotations

from pathlib import Path

import pyarrow.fs

from rs_clip_train import storage


def test_a_nodes_working_copy_is_keyed_by_the_stored_run():
    copy = storage.scratch("/x/exp", "s3://b/runs", on_driver_node=False)
    assert copy.name.startswith("exp-") and copy == storage.scratch("/elsewhere/exp", "s3://b/runs/", False)
    assert copy != storage.scratch("/x/exp", "s3://b/other", False)  # two runs named alike never share
    assert storage.scratch("/x/exp", "s3://b/runs", on_driver_node=True) == Path("/x/exp")


def test_rank_zero_continues_the_stored_record_over_its_nodes_older_copy(tmp_path, monkeypatch):
    """A restart can move rank 0 away and back: its node's metrics.jsonl is then an earlier attempt's."""
    store, node = tmp_path / "store", tmp_path / "node"
    (store / "checkpoints" / "step-4").mkdir(parents=True)
    (store / "checkpoints" / "step-4" / "manifest.json").write_text("{}")
    (store / "metrics.jsonl").write_text('{"step": 2}\n{"step": 4}\n')
    (store / "tensorboard").mkdir()
    (store / "tensorboard" / "events.out").write_bytes(b"stored")
    node.mkdir()
    (node / "metrics.jsonl").write_text('{"step": 2}\n')  # attempt 0's, before attempt 1 ran elsewhere
    monkeypatch.setattr(storage, "_ray_storage", lambda: (pyarrow.fs.LocalFileSystem(), str(store)))
    storage.fetch_run_files(node)
    assert (node / "metrics.jsonl").read_text() == (store / "metrics.jsonl").read_text()
    assert (node / "tensorboard" / "events.out").read_bytes() == b"stored"
    assert not (node / "checkpoints").exists()  # checkpoints come through Ray, per rank
