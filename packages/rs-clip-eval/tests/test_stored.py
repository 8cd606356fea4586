"""rs-clip-eval over URIs (moto's S3 server): a dataset in the bucket scores and embeds as its copy on disk
does; the embedding cache keys on the manifest, so the same dataset anywhere hits it and a dataset
replaced under the same URI is embedded anew."""

from __future__ import annotations

import json

import pyarrow.fs
from conftest import CLASSES

from rs_clip_eval.cli import main
from rs_formats.embeddings import open_embeddings
from rs_formats.location import resolve

COMMON = ["--model", "RS-Tiny", "--loader-workers", "0", "--no-progress", "--no-plots"]


def test_a_dataset_in_a_bucket_scores_and_embeds_as_on_disk(s3, data_dir, tmp_path, caplog):
    from rs_synth.evalsets import write_captions_dataset

    uri = f"s3://{s3.bucket}/caps"
    pyarrow.fs.copy_files(str(data_dir / "caps"), uri)
    cache = ["--cache-dir", str(tmp_path / "cache")]

    def retrieval(data: str, out: str) -> dict:
        caplog.clear()
        assert main(["retrieval", "--data", data, "--out", str(tmp_path / out), *COMMON, *cache]) == 0
        res = next(iter(json.loads((tmp_path / out / "results.json").read_text())["results"].values()))
        return {k: v for k, v in res["synthetic-captions"]["retrieval"].items() if k != "seconds"}

    disk = retrieval(str(data_dir / "caps"), "disk")
    assert retrieval(uri, "bucket") == disk
    assert "0 misses" in caplog.text  # the same manifest: the embeddings computed from disk serve
    resolve(uri).delete()  # the dataset replaced under the same URI
    write_captions_dataset(uri, n_images=12, classes=CLASSES, seed=5)
    assert retrieval(uri, "replaced") != disk and "0 misses" not in caplog.text

    for name, data in (("emb-disk", str(data_dir / "caps")), ("emb-bucket", uri)):
        args = ["embed", "--data", data, "--split", "test", "--out", str(tmp_path / name), "--no-cache"]
        assert main([*args, "--device", "cpu", "--model", "RS-Tiny", "--loader-workers", "0", "-q"]) == 0
    there, here = open_embeddings(tmp_path / "emb-bucket"), open_embeddings(tmp_path / "emb-disk")
    assert there.meta["dataset"] == uri and there.num_rows == 12 and here.num_rows == 24
