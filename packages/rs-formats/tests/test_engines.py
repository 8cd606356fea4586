"""Five Parquet engines read an rs-dataset v2 as it is, with the one-liners the READMEs show.

pyarrow.dataset, Polars, DuckDB and Ray Data are handed the dataset's ``data/`` folder (splits as the
``split`` column); Hugging Face ``datasets`` is handed the dataset directory (splits from the shard file
names, PIL images, a ClassLabel). Each must find every split and row, the images as written, and the class
names. The truth is what the test wrote, not what rs-formats reads back.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import png_bytes
from PIL import Image

from rs_formats import DatasetWriter

CLASSES = ["airport", "beach", "dense residential"]
#: dataset -> split -> number of rows
LAYOUT = {"captions": {"train": 5, "test": 3}, "classification": {"train": 4, "val": 2}}


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, tuple[Path, dict[str, dict]]]:
    """Per kind: the dataset's path and, per image_id, what was written (split, pixels, label, captions)."""
    out = {}
    for kind, splits in LAYOUT.items():
        root = tmp_path_factory.mktemp("engines") / kind
        truth: dict[str, dict] = {}
        with DatasetWriter(
            root,
            name=kind,
            kind=kind,
            class_names=CLASSES if kind == "classification" else None,
            row_group_rows=2,
            max_shard_bytes=2_000,
        ) as w:
            for split, n in splits.items():
                for _ in range(n):
                    seed = len(truth) + (100 if kind == "classification" else 0)
                    image_id = f"{kind}/{seed:03d}"
                    image = png_bytes(seed, size=12 + seed % 5)
                    label = seed % 3 if kind == "classification" else None
                    captions = [f"caption {seed} a", f"caption {seed} b"] if kind == "captions" else None
                    w.write(
                        {
                            "image_id": image_id,
                            "source": "test",
                            "image": image,
                            "width": 1,
                            "height": 1,
                            "label": label,
                            "captions": captions,
                        },
                        split=split,
                    )
                    truth[image_id] = {
                        "split": split,
                        "pixels": _pixels(image),
                        "label": label,
                        "captions": captions,
                    }
        assert len(list((root / "data").iterdir())) > len(splits)  # several shards per split
        out[kind] = (root, truth)
    return out


def _check(rows: list[dict], truth: dict[str, dict], kind: str) -> None:
    """``rows``: image_id, split, image (PIL image or encoded bytes), label, captions, as an engine gave them."""
    assert sorted(r["image_id"] for r in rows) == sorted(truth)
    for r in rows:
        want = truth[r["image_id"]]
        image = r["image"]
        pixels = np.asarray(image.convert("RGB")) if isinstance(image, Image.Image) else _pixels(image)
        assert r["split"] == want["split"] and np.array_equal(pixels, want["pixels"]), r["image_id"]
        assert r["label"] == want["label"]
        assert (list(r["captions"]) if r["captions"] is not None else None) == want["captions"]


def _names(raw: bytes | str) -> list[str] | None:
    label = json.loads(raw)["info"]["features"].get("label")
    return label["names"] if label else None


def _expected_names(kind: str) -> list[str] | None:
    return CLASSES if kind == "classification" else None


@pytest.mark.parametrize("kind", LAYOUT)
def test_pyarrow_dataset(written, kind):
    import pyarrow.dataset as pds

    root, truth = written[kind]
    dataset = pds.dataset(root / "data")
    table = dataset.to_table()
    rows = [{**r, "image": r["image"]["bytes"]} for r in table.to_pylist()]
    _check(rows, truth, kind)
    assert _names(dataset.schema.metadata[b"huggingface"]) == _expected_names(kind)


@pytest.mark.parametrize("kind", LAYOUT)
def test_polars(written, kind):
    import polars as pl

    root, truth = written[kind]
    frame = pl.read_parquet(root / "data")
    frame = frame.with_columns(pl.col("image").struct.field("bytes").alias("image"))
    _check(frame.to_dicts(), truth, kind)
    assert set(frame["split"].unique()) == set(LAYOUT[kind])
    shard = next((root / "data").glob("*.parquet"))
    assert _names(pl.read_parquet_metadata(shard)["huggingface"]) == _expected_names(kind)


@pytest.mark.parametrize("kind", LAYOUT)
def test_duckdb(written, kind):
    import duckdb

    root, truth = written[kind]
    glob = f"{root}/data/*.parquet"
    with duckdb.connect() as con:
        cursor = con.sql(f"SELECT image_id, split, image.bytes AS image, label, captions FROM '{glob}'")
        rows = [dict(zip(cursor.columns, values)) for values in cursor.fetchall()]
        [(raw,)] = con.sql(
            f"SELECT DISTINCT value FROM parquet_kv_metadata('{glob}') WHERE key = 'huggingface'"
        ).fetchall()
    _check(rows, truth, kind)
    assert _names(raw) == _expected_names(kind)


@pytest.mark.parametrize("kind", LAYOUT)
def test_hugging_face_datasets_offline(written, kind, tmp_path, monkeypatch):
    for var in ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE"):
        monkeypatch.setenv(var, "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    import datasets

    assert datasets.config.HF_HUB_OFFLINE
    root, truth = written[kind]
    loaded = datasets.load_dataset(str(root), cache_dir=str(tmp_path / "cache"))
    assert sorted(loaded) == sorted(LAYOUT[kind])
    rows = [row for split in loaded.values() for row in split]
    assert all(isinstance(r["image"], Image.Image) for r in rows)
    _check(rows, truth, kind)
    label = loaded[next(iter(LAYOUT[kind]))].features["label"]
    if kind == "classification":
        assert isinstance(label, datasets.ClassLabel) and label.names == CLASSES
        assert loaded["train"][0]["label"] == truth[loaded["train"][0]["image_id"]]["label"]
    else:
        assert not isinstance(label, datasets.ClassLabel)


@pytest.fixture(scope="module")
def ray_local():
    import ray

    # address="local": always a fresh cluster of our own, never one another process on the machine runs.
    ray.init(address="local", num_cpus=1, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield ray
    ray.shutdown()


@pytest.mark.parametrize("kind", LAYOUT)
def test_ray_data(written, kind, ray_local):
    root, truth = written[kind]
    dataset = ray_local.data.read_parquet(str(root / "data"))
    assert _names(dataset.schema().base_schema.metadata[b"huggingface"]) == _expected_names(kind)
    rows = [{**r, "image": r["image"]["bytes"]} for r in dataset.take_all()]
    _check(rows, truth, kind)
