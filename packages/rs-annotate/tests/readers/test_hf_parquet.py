"""The Hugging Face Parquet readers, on datasets that Hugging Face's own ``datasets`` library writes here
(``Dataset.to_parquet`` with Image and ClassLabel features), offline."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from rs_annotate import BadInput, ConvertOptions, convert
from rs_annotate.readers import get_reader
from rs_formats import DatasetWriter, open_dataset

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import datasets  # noqa: E402 - the offline switches are read when it is imported

RAW_CLASSES = ["golf_course", "denseresidential", "Airport"]
OPTIONS = ConvertOptions(workers=1, image_format="png", progress=False)


def _pixels(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (20 + seed % 4, 24, 3), dtype=np.uint8)


def _hf(features: dict, columns: dict) -> datasets.Dataset:
    return datasets.Dataset.from_dict(columns, features=datasets.Features(features))


def _write(ds: datasets.Dataset, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.to_parquet(str(path))
    return path


@pytest.fixture(scope="module")
def classification(tmp_path_factory) -> Path:
    """push_to_hub's layout: data/<split>-NNNNN-of-MMMMM.parquet, two shards for train."""
    root = tmp_path_factory.mktemp("hf") / "ucm_hub"
    features = {"image": datasets.Image(), "label": datasets.ClassLabel(names=RAW_CLASSES)}
    for split, seeds, shard, shards in [
        ("train", range(0, 4), 0, 2),
        ("train", range(4, 7), 1, 2),
        ("test", range(10, 13), 0, 1),
    ]:
        columns = {"image": [Image.fromarray(_pixels(s)) for s in seeds], "label": [s % 3 for s in seeds]}
        _write(_hf(features, columns), root / "data" / f"{split}-{shard:05d}-of-{shards:05d}.parquet")
    (root / "README.md").write_text("---\nlicense: cc-by-4.0\n---\n")
    return root


@pytest.fixture(scope="module")
def captions(tmp_path_factory) -> Path:
    """Split folders, a list-of-strings caption column, and a file name the split words do not name."""
    root = tmp_path_factory.mktemp("hf") / "rsicd_hub"
    features = {
        "image": datasets.Image(),
        "captions": datasets.Sequence(datasets.Value("string")),
        "filename": datasets.Value("string"),
    }
    for split, seeds in [("train", range(20, 23)), ("validation", range(23, 25))]:
        columns = {
            "image": [Image.fromarray(_pixels(s)) for s in seeds],
            "captions": [[f"many  buildings {s} .", f"a road {s}"] for s in seeds],
            "filename": [f"{s}.jpg" for s in seeds],
        }
        _write(_hf(features, columns), root / split / "0000.parquet")
    return root


def _rows(path: Path) -> dict[str, list[dict]]:
    ds = open_dataset(path)
    return {split: ds.read_table(split).to_pylist() for split in ds.splits}


def test_classification_converts_every_split_with_its_class_names(classification, tmp_path):
    report = convert("hf-classification", classification, tmp_path / "out", OPTIONS)
    ds = open_dataset(tmp_path / "out")
    assert ds.kind == "classification" and ds.class_names == ["golf course", "dense residential", "airport"]
    rows = _rows(tmp_path / "out")
    assert sorted(rows) == ["test", "train"] and report.rows == 10
    assert [r["image_id"] for r in rows["train"]] == [f"ucm_hub/train/{i:06d}" for i in range(7)]
    for split, seeds in [("train", range(7)), ("test", range(10, 13))]:
        for row, seed in zip(rows[split], seeds):
            assert row["label"] == seed % 3
            assert np.array_equal(np.asarray(Image.open(io.BytesIO(row["image"]))), _pixels(seed))
            meta = json.loads(row["meta"])
            assert meta["hf_label"] == RAW_CLASSES[seed % 3] and meta["file"].startswith(f"data/{split}-")


def test_captions_from_split_folders_in_worker_processes(captions, tmp_path):
    convert("hf-captions", captions, tmp_path / "out", OPTIONS, workers=2, chunksize=1)
    rows = _rows(tmp_path / "out")
    assert sorted(rows) == ["train", "validation"]
    assert [r["captions"] for r in rows["validation"]] == [
        [f"many buildings {s}.", f"a road {s}"] for s in (23, 24)
    ]
    assert [json.loads(r["meta"])["row"] for r in rows["train"]] == [0, 1, 2]
    assert open_dataset(tmp_path / "out").kind == "captions"


def test_class_names_take_the_names_option(classification):
    reader = get_reader("hf-classification")(classification, names='{"Airport": "airfield"}')
    assert reader.class_names == ["golf course", "dense residential", "airfield"]
    with pytest.raises(ValueError, match="has no option captions"):
        get_reader("hf-classification")(classification, captions="text")


def test_a_single_string_caption_column_and_a_forced_split(tmp_path):
    root = tmp_path / "src"
    features = {"img": datasets.Image(), "text": datasets.Value("string")}
    _write(_hf(features, {"img": [Image.fromarray(_pixels(1))], "text": ["one ship"]}), root / "part.parquet")
    with pytest.raises(BadInput, match=r"part\.parquet: cannot tell which split"):
        convert("hf-captions", root, tmp_path / "out", OPTIONS)
    convert("hf-captions", root, tmp_path / "out", OPTIONS, reader_options={"split": "test"})
    assert _rows(tmp_path / "out")["test"][0]["captions"] == ["one ship"]


def test_an_rs_dataset_v2_is_itself_a_hugging_face_dataset(tmp_path):
    """What rs-formats writes is read back by this reader: the two agree on the Hub's form."""
    src = tmp_path / "rs"
    with DatasetWriter(src, name="rs", kind="classification", class_names=["beach", "forest"]) as w:
        for i in range(4):
            buf = io.BytesIO()
            Image.fromarray(_pixels(i)).save(buf, "PNG")
            w.write(
                {
                    "image_id": f"x/{i}",
                    "source": "x",
                    "image": buf.getvalue(),
                    "width": 24,
                    "height": 20 + i % 4,
                    "label": i % 2,
                },
                split="train" if i else "val",
            )
    convert("hf-classification", src, tmp_path / "out", OPTIONS, reader_options={"source": "rs"})
    rows = _rows(tmp_path / "out")
    assert open_dataset(tmp_path / "out").class_names == ["beach", "forest"]
    assert [r["label"] for r in rows["train"]] == [1, 0, 1] and [r["label"] for r in rows["val"]] == [0]


def test_bad_input_names_the_file_and_row(classification, tmp_path):
    reader = get_reader("hf-classification")
    root = tmp_path / "no-label"
    _write(
        _hf(
            {"image": datasets.Image(), "label": datasets.Value("int64")},
            {"image": [Image.fromarray(_pixels(0))], "label": [0]},
        ),
        root / "train.parquet",
    )
    with pytest.raises(BadInput, match=r"train\.parquet: no ClassLabel column .*pass label=COLUMN"):
        reader(root)

    root = tmp_path / "path-only"
    features = {"image": datasets.Image(decode=False), "label": datasets.ClassLabel(names=["a", "b"])}
    table = _hf(
        features,
        {
            "image": [{"bytes": None, "path": "elsewhere/0.png"}, {"bytes": None, "path": "1.png"}],
            "label": [0, 1],
        },
    )
    root.mkdir()
    pq.write_table(table.data.table, root / "test.parquet")  # to_parquet would embed the files
    assert b"Image" in pq.read_schema(root / "test.parquet").metadata[b"huggingface"]
    with pytest.raises(
        BadInput, match=r"row group 0, row 0: no embedded image bytes \(path only: elsewhere/0\.png\)"
    ):
        convert("hf-classification", root, tmp_path / "out", OPTIONS)
    with pytest.raises(BadInput, match=r"nothing to write: 2 item\(s\), 2 bad"):
        convert("hf-classification", root, tmp_path / "out", OPTIONS, skip_bad=True)

    root = tmp_path / "other-names"
    for split, names in [("train", ["a", "b"]), ("test", ["a", "c"])]:
        _write(
            _hf(
                {"image": datasets.Image(), "label": datasets.ClassLabel(names=names)},
                {"image": [Image.fromarray(_pixels(0))], "label": [0]},
            ),
            root / f"{split}.parquet",
        )
    with pytest.raises(
        BadInput,
        match=r"train\.parquet: its raw names are \['a', 'b'\], but .*test\.parquet's are \['a', 'c'\]",
    ):
        reader(root)

    root = tmp_path / "not-parquet"
    (root / "data").mkdir(parents=True)
    (root / "data" / "train-00000-of-00001.parquet").write_bytes(b"PAR1 but not really")
    with pytest.raises(BadInput, match=r"train-00000-of-00001\.parquet: not a readable Parquet file"):
        reader(root)


def test_special_files_are_skipped_and_links_out_of_the_source_refused(classification, tmp_path):
    root = tmp_path / "src"
    (root / "data").mkdir(parents=True)
    for shard in (classification / "data").iterdir():
        (root / "data" / shard.name).write_bytes(shard.read_bytes())
    os.mkfifo(root / "data" / "val-00000-of-00001.parquet")  # reading it would block forever
    reader = get_reader("hf-classification")(root)
    assert [str(s) for s in reader.skipped] == [
        f"{root}/data/val-00000-of-00001.parquet: is a FIFO (named pipe), not a regular file; refusing to read it"
    ]
    assert len(reader.items()) == 10 and pq.ParquetFile(reader.files[0]).metadata.num_rows == 3

    (root / "data" / "val-00000-of-00001.parquet").unlink()
    (root / "data" / "val-00000-of-00001.parquet").symlink_to(next((classification / "data").iterdir()))
    with pytest.raises(BadInput, match=r"val-00000-of-00001\.parquet: .*outside"):
        get_reader("hf-classification")(root)
    assert len(get_reader("hf-classification")(root, follow_symlinks=True).items()) > 10


def test_sixteen_bit_images_in_parquet_rows_go_through_the_imagery_rule(tmp_path):
    from rs_formats.rasters import to_rgb8

    bands = [np.random.default_rng(s).integers(100, 4000, (12, 16), dtype=np.uint16) for s in range(3)]
    encoded = []
    for band in bands:
        buf = io.BytesIO()
        Image.fromarray(band).save(buf, "PNG")  # mode I;16: PIL alone decodes it as white
        encoded.append({"bytes": buf.getvalue(), "path": None})
    features = {"image": datasets.Image(), "label": datasets.ClassLabel(names=RAW_CLASSES)}
    _write(_hf(features, {"image": encoded, "label": [0, 1, 2]}), tmp_path / "hub" / "data" / "test.parquet")
    convert("hf-classification", tmp_path / "hub", tmp_path / "out", OPTIONS)
    rows = open_dataset(tmp_path / "out").read_table("test", ["image"]).to_pylist()
    for row, band in zip(rows, bands):
        stored = np.asarray(Image.open(io.BytesIO(row["image"])).convert("RGB"))
        assert stored.std() > 30 and np.array_equal(stored, to_rgb8(band))
