"""``convert clip-benchmark-wds``: CLIP_benchmark's wds_ evaluation sets, written by clip_benchmark's own
exporter (``clip_benchmark.webdataset_builder``), read back row for row and pixel for pixel."""

from __future__ import annotations

import io
import tarfile

import numpy as np
import pytest
from PIL import Image

from rs_annotate import BadInput, convert
from rs_annotate.readers.ret3 import clean_caption
from rs_formats import open_dataset
from rs_formats.pixel_limits import decode_image

CLASSES = ["annual crop land", "forest", "river"]


class _Set(list):
    """What clip_benchmark's exporter takes: (image, target) pairs, with classes and templates attributes."""

    classes = CLASSES
    templates = ["a centered satellite photo of {c}.", "a satellite photo of the {c}."]


def _webp(rng: np.random.Generator) -> tuple[np.ndarray, bytes]:
    pixels = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="webp", lossless=True)  # clip_benchmark's default format
    return pixels, buf.getvalue()


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A zero-shot set (test split in two shards) and a retrieval set, as clip_benchmark exports them."""
    import torch.utils.data
    from clip_benchmark.webdataset_builder import convert_dataset, convert_retrieval_dataset

    loader = torch.utils.data.DataLoader  # the exporter asks for 8 loader processes: in-process here
    rng = np.random.default_rng(0)
    root = tmp_path_factory.mktemp("wds")
    images = [_webp(rng) for _ in range(7)]
    labels = [0, 2, 1, 1, 0, 2, 2]
    captions = [[f"caption {j} of image {i}" for j in range(i % 3 + 1)] for i in range(4)]
    captions[1][0] = "a line\nbreak inside"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch.utils.data, "DataLoader", lambda *a, **kw: loader(*a, **{**kw, "num_workers": 0}))
        pairs = _Set((b, y) for (_, b), y in zip(images, labels))
        convert_dataset(pairs, "test", str(root / "wds_vtab-eurosat"), max_count=4)
        pairs = [(b, c) for (_, b), c in zip(images, captions)]
        convert_retrieval_dataset(pairs, "test", str(root / "wds_rsicd"))
    return root, images, labels, captions


def test_zero_shot_set_reads_every_sample_with_its_label_and_pixels(written, tmp_path):
    root, images, labels, _ = written
    assert (root / "wds_vtab-eurosat" / "test" / "nshards.txt").read_text().strip() == "2"
    report = convert("clip-benchmark-wds", root / "wds_vtab-eurosat", tmp_path / "eurosat", workers=1)
    assert report.rows == 7
    ds = open_dataset(tmp_path / "eurosat")
    assert ds.kind == "classification" and ds.class_names == CLASSES and ds.splits == ["test"]
    rows = ds.read_table("test", ["image_id", "image", "label", "source"]).to_pylist()
    assert [r["label"] for r in rows] == labels
    assert [r["image_id"] for r in rows] == [f"vtab-eurosat/test/s{i:07d}" for i in range(7)]
    for row, (pixels, _) in zip(rows, images):
        np.testing.assert_array_equal(np.asarray(decode_image(row["image"])), pixels)  # lossless
    (source,) = ds.manifest["sources"]
    assert (
        source["name"] == "vtab-eurosat"
        and "MIT" in source["license"]
        and "wds_vtab-eurosat" in source["url"]
    )


def test_retrieval_set_reads_every_caption(written, tmp_path):
    root, _, _, captions = written
    convert("clip-benchmark-wds", root / "wds_rsicd", tmp_path / "rsicd", workers=1)
    ds = open_dataset(tmp_path / "rsicd")
    assert ds.kind == "captions"
    got = ds.read_table("test", ["captions"]).column("captions").to_pylist()
    assert got == [[c.replace("\n", " ") for c in caps] for caps in captions]
    assert "per dataset" in ds.manifest["sources"][0]["license"]  # not a set the reader knows
    convert(
        "clip-benchmark-wds",
        root / "wds_rsicd",
        tmp_path / "five",
        workers=1,
        reader_options={"n_captions": 5},
    )
    assert all(
        len(c) == 5 for c in open_dataset(tmp_path / "five").read_table("test", ["captions"])[0].to_pylist()
    )


def test_bad_sets_name_the_file(written, tmp_path):
    root, *_ = written
    bad = tmp_path / "wds_bad"
    (bad / "test").mkdir(parents=True)
    (bad / "test" / "nshards.txt").write_text("2\n")
    (bad / "classnames.txt").write_text("forest\nForest\n")
    with pytest.raises(BadInput, match=r"classnames.txt:2: 'Forest' means 'forest'"):
        convert("clip-benchmark-wds", bad, tmp_path / "out", workers=1)
    (bad / "classnames.txt").write_text("forest\nriver\n")
    with tarfile.open(bad / "test" / "0.tar", "w") as tar:
        for name, data in (("a.webp", b""), ("a.cls", b"7")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(BadInput, match=r"1.tar: missing: .* counts 2 shards"):
        convert("clip-benchmark-wds", bad, tmp_path / "out", workers=1)
    (bad / "test" / "1.tar").write_bytes(b"not a tar")
    with pytest.raises(BadInput, match=r"1.tar: not a readable tar file"):
        convert("clip-benchmark-wds", bad, tmp_path / "out", workers=1)
    (bad / "test" / "nshards.txt").write_text("1\n")
    with pytest.raises(BadInput, match=r"0.tar: sample 'a': label '7' is not a class index \(0 to 1\)"):
        convert("clip-benchmark-wds", bad, tmp_path / "out", workers=1)
    (bad / "dataset_type.txt").write_text("multilabel\n")
    with pytest.raises(BadInput, match="dataset_type.txt: dataset type 'multilabel'"):
        convert("clip-benchmark-wds", bad, tmp_path / "out", workers=1)
    assert not (tmp_path / "out").exists()


def test_an_exported_caption_set_is_clip_benchmarks_retrieval_set_and_reads_back(tmp_path):
    from clip_benchmark.datasets.builder import build_wds_dataset

    from rs_annotate import export_webdataset
    from rs_synth.evalsets import write_captions_dataset

    write_captions_dataset(tmp_path / "caps", n_images=6, size=32)
    export_webdataset(tmp_path / "caps", tmp_path / "wds_caps", captions="all", shard_size=4)
    captions = open_dataset(tmp_path / "caps").read_table("test", ["captions"])[0].to_pylist()
    theirs = build_wds_dataset("caps", transform=None, split="test", data_dir=str(tmp_path / "wds_caps"))
    assert [texts for _, texts in theirs] == captions
    convert("clip-benchmark-wds", tmp_path / "wds_caps", tmp_path / "back", workers=1)
    back = open_dataset(tmp_path / "back").read_table("test", ["captions"])[0].to_pylist()
    assert back == [[clean_caption(c) for c in caps] for caps in captions]  # cleaned as every reader does
    assert back != captions  # rs-synth writes RSICD's "word ." spacing: the cleaning is seen
