"""Synthetic evaluation sets written as rs-datasets: contract, captions, determinism."""

import pytest

from rs_formats import open_dataset, verify_dataset
from rs_synth.evalsets import write_captions_dataset, write_classification_dataset


def test_captions_dataset_follows_the_contract_and_counts_in_words(tmp_path):
    out = write_captions_dataset(
        tmp_path / "caps", n_images=6, classes=("bus", "storage tank"), size=48, row_group_rows=4
    )
    verify_dataset(out)
    ds = open_dataset(out)
    assert ds.kind == "captions" and ds.splits == ["test"] and ds.num_rows("test") == 6
    assert ds.manifest["generator"].startswith("rs-synth ")
    rows = list(ds.iter_rows("test", columns=["image_id", "captions"]))
    assert [r["image_id"] for r in rows] == [f"synthetic-captions/{i:06d}" for i in range(6)]
    for i, r in enumerate(rows):
        assert len(r["captions"]) == 5 and len(set(r["captions"])) > 1
        text = " ".join(r["captions"])
        assert (
            "bus" if i % 2 == 0 else "tank"
        ) in text and "buss" not in text  # the class is named, worded right


def test_classification_dataset_and_determinism(tmp_path):
    a = write_classification_dataset(
        tmp_path / "a", n_train=6, n_test=3, classes=("plane", "ship", "bridge"), size=48, image_format="png"
    )
    b = write_classification_dataset(
        tmp_path / "b", n_train=4, n_test=3, classes=("plane", "ship", "bridge"), size=48, image_format="png"
    )
    verify_dataset(a)
    da, db = open_dataset(a), open_dataset(b)
    assert da.class_names == ["plane", "ship", "bridge"] and da.splits == ["test", "train"]
    ra = list(da.iter_rows("train", columns=["label", "image"]))
    rb = list(db.iter_rows("train", columns=["label", "image"]))
    assert [r["label"] for r in ra] == [0, 1, 2, 0, 1, 2]
    assert ra[:4] == rb  # row i depends only on (seed, i)
    assert ra[0]["image"][:4] == b"\x89PNG"
    assert list(da.iter_rows("test", columns=["image"])) == list(db.iter_rows("test", columns=["image"]))
    with pytest.raises(ValueError, match="image_format"):
        write_classification_dataset(tmp_path / "c", n_train=1, n_test=1, image_format="JPEG")
