"""``rs-annotate export webdataset|csv``: read back by the ``webdataset`` library and pandas as open_clip_train
and clip_benchmark read them, and trained on for a few steps by open_clip's own training entry point."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest
import webdataset as wds

from rs_annotate import export_csv, export_webdataset
from rs_annotate.cli import main
from rs_formats import open_dataset
from rs_synth.evalsets import write_captions_dataset, write_classification_dataset


@pytest.fixture(scope="module")
def caps(tmp_path_factory):
    out = tmp_path_factory.mktemp("ds") / "caps"
    write_captions_dataset(out, n_images=12, size=32, split="train", name="caps")
    return out


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    out = tmp_path_factory.mktemp("ds") / "scenes"
    write_classification_dataset(out, n_train=6, n_test=4, classes=("plane", "storage tank"), size=32)
    return out


def _rows(path, split):
    return open_dataset(path).read_table(split, ["image_id", "image", "captions", "label"]).to_pylist()


def test_webdataset_shards_hold_every_row_as_open_clip_train_reads_them(caps, tmp_path):
    out = tmp_path / "wds"
    assert main(["export", "webdataset", str(caps), "--out", str(out), "--shard-size", "5", "-q"]) == 0
    rows = _rows(caps, "train")
    shards = sorted((out / "train").glob("*.tar"))
    assert [s.name for s in shards] == ["0.tar", "1.tar", "2.tar"]
    assert json.loads((out / "train" / "sizes.json").read_text()) == {"0.tar": 5, "1.tar": 5, "2.tar": 2}
    assert (out / "train" / "nshards.txt").read_text() == "3\n"
    assert (out / "dataset_type.txt").read_text() == "retrieval\n"
    # open_clip_train's decoding: pilrgb, image from jpg;png;jpeg;webp, text from txt
    pipeline = wds.DataPipeline(
        wds.SimpleShardList(f"{out}/train/{{0..2}}.tar"),
        wds.tarfile_to_samples(),
        wds.rename(image="jpg;png;jpeg;webp", text="txt", meta="json"),
    )
    samples = list(pipeline)
    assert [s["__key__"] for s in samples] == [f"{i:06d}" for i in range(12)]
    for sample, row in zip(samples, rows):
        assert sample["image"] == row["image"]  # the stored bytes, untouched
        assert sample["text"].decode() == row["captions"][0]
        meta = json.loads(sample["meta"])
        assert meta["captions"] == row["captions"] and meta["image_id"] == row["image_id"]
    decoded = next(iter(wds.WebDataset(str(shards[0]), shardshuffle=False).decode("pilrgb")))
    assert decoded["jpg" if "jpg" in decoded else "png"].size == (32, 32)
    again = tmp_path / "again"
    export_webdataset(caps, again, shard_size=5)
    assert all((again / "train" / s.name).read_bytes() == s.read_bytes() for s in shards)  # reproducible


def test_webdataset_classification_is_clip_benchmarks_zeroshot_layout(scenes, tmp_path):
    out = tmp_path / "wds"
    summary = export_webdataset(scenes, out, splits=["test"], captions="all")
    assert summary["splits"] == {
        "test": {"samples": 4, "shards": 1, "skipped_without_text": 0, "reencoded_as_png": 0}
    }
    assert not (out / "train").exists() and (out / "classnames.txt").read_text() == "plane\nstorage tank\n"
    data = wds.WebDataset(f"{out}/test/0.tar", shardshuffle=False).to_tuple("cls", "txt")
    names = ["plane", "storage tank"]
    got = [(int(c), t.decode()) for c, t in data]
    assert got == [(r["label"], names[r["label"]]) for r in _rows(scenes, "test")]
    with pytest.raises(ValueError, match="no split 'val'|no split val"):
        export_webdataset(scenes, tmp_path / "x", splits=["val"])
    assert not (tmp_path / "x").exists()


def test_csv_has_one_row_per_caption_in_open_clip_trains_layout(caps, tmp_path):
    out = tmp_path / "csv"
    assert main(["export", "csv", str(caps), "--out", str(out), "-q"]) == 0
    df = pd.read_csv(out / "train.csv", sep="\t")  # open_clip_train's CsvDataset reads it so
    rows = _rows(caps, "train")
    assert list(df.columns) == ["filepath", "title", "image_id"]
    assert df["title"].tolist() == [c for r in rows for c in r["captions"]]
    first = df.groupby("image_id", sort=False)["filepath"].first()
    assert first.index.tolist() == [r["image_id"] for r in rows]
    for path, row in zip(first, rows):
        assert path.startswith(str(out.resolve())) and open(path, "rb").read() == row["image"]
    summary = json.loads((out / "export.json").read_text())
    assert summary["splits"]["train"]["rows"] == len(df) and summary["dataset_sha256"]
    export_csv(caps, tmp_path / "rel", separator=",", relative=True)
    assert pd.read_csv(tmp_path / "rel" / "train.csv")["filepath"][0] == "images/train/000000.jpg"
    # an export replaces an export (its export.json says an rs-clip tool wrote it), and only with --overwrite
    assert main(["export", "csv", str(caps), "--out", str(out), "-q"]) == 2
    assert main(["export", "csv", str(caps), "--out", str(out), "--overwrite", "--separator", ",", "-q"]) == 0
    assert pd.read_csv(out / "train.csv")["title"].tolist() == df["title"].tolist()


def test_open_clip_train_trains_on_both_exports(caps, tmp_path, monkeypatch):
    """open_clip's own training entry point, a few steps of RS-Tiny on each export."""
    from open_clip_train.main import main as train

    from rs_clip_models.models import register_tiny_configs

    register_tiny_configs()
    export_webdataset(caps, tmp_path / "wds", shard_size=6)
    export_csv(caps, tmp_path / "csv")
    monkeypatch.chdir(tmp_path)
    common = ["--model", "RS-Tiny", "--batch-size", "4", "--epochs", "1", "--workers", "0", "--lr", "1e-4"]
    common += ["--logs", str(tmp_path / "logs"), "--save-frequency", "0", "--report-to", "", "--seed", "0"]
    common += ["--warmup", "1"]
    for name, samples, data in (  # sizes.json gives the webdataset's 12 samples; the CSV has 5 captions each
        ("wds", 12, ["--dataset-type", "webdataset", "--train-data", str(tmp_path / "wds/train/{0..1}.tar")]),
        ("csv", 60, ["--dataset-type", "csv", "--train-data", str(tmp_path / "csv/train.csv")]),
    ):
        root = logging.getLogger()
        handlers = list(root.handlers)
        levels = {n: logging.getLogger(n).level for n in ["", *logging.root.manager.loggerDict]}
        try:
            train([*common, *data, "--name", name])
        finally:  # open_clip_train sets up logging for the whole process: undone for the tests after
            for handler in set(root.handlers) - set(handlers):
                root.removeHandler(handler)
                handler.close()
            for n in logging.root.manager.loggerDict:
                logging.getLogger(n).setLevel(levels.get(n, logging.NOTSET))
            root.setLevel(levels[""])
        log = (tmp_path / "logs" / name / "out.log").read_text()
        steps = [line for line in log.splitlines() if "Train Epoch: 0" in line]
        assert steps and "Loss" in steps[-1] and f"[{samples}/{samples} (100%)]" in steps[-1], log[-2000:]
