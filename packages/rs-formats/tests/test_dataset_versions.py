"""rs-dataset v2 on disk, and the evolution rule: v1 still reads, to the same rows; v2 is refused by a
reader that knows only v1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import make_row

from rs_formats import DatasetWriter, FormatError, dataset_schema, open_dataset, verify_dataset
from rs_formats.dataset import manifest as manifest_module
from rs_formats.hashing import file_sha256
from rs_synth.writers.rs_dataset_v1 import write_v1

CLASSES = ["airport", "beach", "forest"]


@pytest.fixture(scope="module")
def v2(tmp_path_factory) -> Path:
    """A classification dataset with two splits, several shards and row groups."""
    out = tmp_path_factory.mktemp("v2") / "ds"
    with DatasetWriter(
        out, name="t", kind="classification", class_names=CLASSES, row_group_rows=3, max_shard_bytes=3_000
    ) as w:
        for i in range(20):
            w.write(
                make_row(i, label=i % 3, meta=json.dumps({"i": i})), split="val" if i % 5 == 0 else "train"
            )
    return out


@pytest.fixture(scope="module")
def v1(v2, tmp_path_factory) -> Path:
    return write_v1(v2, tmp_path_factory.mktemp("v1") / "ds")


def test_v2_keeps_the_manifest_beside_the_shards(v2):
    assert sorted(p.name for p in v2.iterdir()) == ["data", "manifest.json"]
    splits = json.loads((v2 / "manifest.json").read_text())["splits"]
    for split, info in splits.items():
        n = len(info["shards"])
        assert info["shards"] == [f"{split}-{i:05d}-of-{n:05d}.parquet" for i in range(n)]
    assert len(splits["train"]["shards"]) > 1
    assert sorted(p.name for p in (v2 / "data").iterdir()) == sorted(
        s for i in splits.values() for s in i["shards"]
    )


def test_every_v2_shard_describes_itself(v2):
    for shard in (v2 / "data").iterdir():
        schema = pq.read_schema(shard)
        assert json.loads(schema.metadata[b"rs-dataset"]) == {"format": "rs-dataset", "format_version": 2}
        features = json.loads(schema.metadata[b"huggingface"])["info"]["features"]
        assert features == {"image": {"_type": "Image"}, "label": {"_type": "ClassLabel", "names": CLASSES}}
        assert schema.field("image").type == pa.struct([("bytes", pa.binary()), ("path", pa.string())])
        assert schema.field("label").type == pa.int64()
        split = shard.name.split("-")[0]
        assert set(pq.read_table(shard, columns=["split"]).column(0).to_pylist()) == {split}


def test_v1_and_v2_present_the_same_rows(v1, v2):
    old, new = open_dataset(v1), open_dataset(v2)
    assert (old.version, new.version) == (1, 2)
    assert old.data_dir == v1 and new.data_dir == v2 / "data"
    assert old.splits == new.splits == ["train", "val"]
    for split in new.splits:
        table = new.read_table(split)
        assert table.schema == dataset_schema() and table.equals(old.read_table(split))
        assert [r["label"] for r in table.to_pylist()] == [
            i % 3 for i in range(20) if ("val" if i % 5 == 0 else "train") == split
        ]
        assert [g.num_rows for g in new.row_groups(split)] == [g.num_rows for g in old.row_groups(split)]
        for index in range(len(new.row_groups(split))):
            for cols in (None, ["image", "label"], ["image_id"]):
                assert new.read_row_group(split, index, cols).equals(old.read_row_group(split, index, cols))
    first = next(new.iter_rows("train", ["image", "image_id"]))
    assert first == {"image": make_row(1)["image"], "image_id": "synthetic/00001"}
    n_train, n_val = (len(new.manifest["splits"][s]["shards"]) for s in ("train", "val"))
    assert verify_dataset(v2)["splits"] == {
        "train": {"shards": n_train, "rows": 16},
        "val": {"shards": n_val, "rows": 4},
    }
    assert verify_dataset(v1)["splits"] == {
        "train": {"shards": 1, "rows": 16},
        "val": {"shards": 1, "rows": 4},
    }


def test_a_reader_that_knows_only_v1_refuses_v2_in_one_line(v2, v1, monkeypatch):
    monkeypatch.setattr(manifest_module, "READABLE_VERSIONS", (1,))
    with pytest.raises(FormatError) as err:
        open_dataset(v2)
    assert str(err.value) == (
        f"{v2 / 'manifest.json'}: format_version 2 is not supported by this rs-formats "
        "(reads 1); upgrade rs-formats to read it"
    )
    assert open_dataset(v1).num_rows("train") == 16


def _first_val_shard(root: Path) -> str:
    return json.loads((root / "manifest.json").read_text())["splits"]["val"]["shards"][0]


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _rewrite_shard(root: Path, name: str, table: pa.Table, schema: pa.Schema) -> Path:
    """Replace a shard and record its new checksum, so only the rule under test is broken."""
    shard = root / "data" / name
    pq.write_table(table.cast(schema), shard)
    manifest = json.loads((root / "manifest.json").read_text())
    for info in manifest["splits"].values():
        if name in info["shards"]:
            info["sha256"][name] = file_sha256(shard)
    (root / "manifest.json").write_text(json.dumps(manifest))
    return shard


@pytest.mark.parametrize(
    "metadata, message",
    [
        ({}, "does not name its format"),
        ({b"rs-dataset": b"[[[["}, "does not describe an rs-dataset shard"),
        ({b"rs-dataset": json.dumps({"format": "rs-dataset", "format_version": "2"}).encode()}, "no integer"),
        (
            {b"rs-dataset": json.dumps({"format": "rs-dataset", "format_version": 3}).encode()},
            "its metadata says format_version 3",
        ),
    ],
)
def test_a_shard_must_state_the_manifests_format_and_version(v2, tmp_path, metadata, message):
    root = _copy(v2, tmp_path / "ds")
    name = _first_val_shard(v2)
    table = pq.read_table(root / "data" / name)
    _rewrite_shard(root, name, table, table.schema.with_metadata(metadata))
    with pytest.raises(FormatError, match=rf"data/{name}: .*{message}"):
        open_dataset(root)


def test_verify_checks_what_other_engines_rely_on(v2, tmp_path):
    name = _first_val_shard(v2)
    root = _copy(v2, tmp_path / "stray")
    (root / "data" / "notes.txt").write_text("hi")
    with pytest.raises(FormatError, match=r"data/notes\.txt: not listed in .*manifest\.json"):
        verify_dataset(root)

    root = _copy(v2, tmp_path / "split")
    table = pq.read_table(root / "data" / name)
    table = table.set_column(table.schema.get_field_index("split"), "split", pa.array(["train"] * len(table)))
    _rewrite_shard(root, name, table, table.schema)
    with pytest.raises(FormatError, match=rf"{name}: row group 0 has rows of split 'train'.* under 'val'"):
        verify_dataset(root)

    root = _copy(v2, tmp_path / "names")
    table = pq.read_table(root / "data" / name)
    features = {"info": {"features": {"label": {"_type": "ClassLabel", "names": ["x", "y", "z"]}}}}
    _rewrite_shard(
        root,
        name,
        table,
        table.schema.with_metadata({**table.schema.metadata, b"huggingface": json.dumps(features).encode()}),
    )
    with pytest.raises(FormatError, match=rf"{name}: its Hugging Face label names \['x', 'y', 'z'\]"):
        verify_dataset(root)


@pytest.mark.parametrize("split", ["a/b", "../up", "my split", "", "train-1", ".hidden", 3])
def test_split_names_are_ones_every_engine_takes(tmp_path, split):
    with pytest.raises(ValueError, match="split name"):
        with DatasetWriter(tmp_path / "ds", name="t") as w:
            w.write(make_row(0), split=split)
    assert not (tmp_path / "ds").exists()


def test_a_row_without_an_image_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"row 'synthetic/00001' has no 'image'"):
        with DatasetWriter(tmp_path / "ds", name="t") as w:
            w.write(make_row(0))
            w.write(make_row(1, image=None))
