"""rs-clip-eval over URIs (moto's S3 server): a dataset in the bucket scores and embeds as its copy on disk
does; the embedding cache keys on the manifest, so the same dataset anywhere hits it and a dataset
replaced under the same URI is embedded anew; embeddings written to a bucket (here or by Ray actors)
serve search, the cache and a suite."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.fs
from conftest import CLASSES

from rs_clip_eval import EmbeddingCache
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


def test_embeddings_written_to_a_bucket_serve_search_the_cache_and_a_suite(s3, data_dir, tmp_path, capsys):
    caps = f"s3://{s3.bucket}/suite-caps"
    pyarrow.fs.copy_files(str(data_dir / "caps"), caps)
    emb, cache = f"s3://{s3.bucket}/emb", tmp_path / "cache"
    device = ["--model", "RS-Tiny", "--device", "cpu", "--loader-workers", "0", "-q"]
    embed = ["embed", "--data", caps, "--split", "test", *device]
    assert main([*embed, "--out", emb, "--cache-dir", str(cache)]) == 0
    assert capsys.readouterr().out == f"{emb}\n"
    assert main([*embed, "--out", str(tmp_path / "emb"), "--no-cache"]) == 0
    there, here = open_embeddings(emb), open_embeddings(tmp_path / "emb")
    assert there.matrix()[0] == here.matrix()[0] and there.num_rows == 24
    assert (there.matrix()[1] == here.matrix()[1]).all()

    def search(embeddings: str) -> list[dict]:
        capsys.readouterr()
        assert main(["search", "--embeddings", embeddings, "--query", "a ship", "-k", "4", *device[:4]]) == 0
        return [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    assert search(emb) == search(str(tmp_path / "emb")) and len(search(emb)) == 4
    assert main(["search", "--embeddings", caps, "--query", "a ship", *device[:4]]) == 2  # not embeddings
    assert capsys.readouterr().err == (
        f"rs-clip-eval: error: {caps}/embeddings.json: missing: this prefix holds no published "
        "rs-clip-embeddings folder (perhaps a write that never finished)\n"
    )

    # A (local) cache adopting the bucket's vectors (as after a Ray engine's run) serves them under the
    # key the evaluation uses, without a copy.
    adopted = EmbeddingCache(tmp_path / "adopting")
    key = there.meta["cache_key"]
    adopted.adopt(key, emb, {})
    assert json.loads(adopted.path(key).with_suffix(".json").read_text())["embeddings"] == emb

    def never() -> None:
        raise AssertionError("embedded again")

    assert (adopted.get_or_compute(key, never, {}) == here.matrix()[1]).all() and adopted.hits == 1

    suite = tmp_path / "suite.yaml"
    suite.write_text(f"datasets:\n  - path: {caps}\n    tasks: [retrieval]\n")
    out = tmp_path / "run"
    assert (
        main(["run", "--suite", str(suite), "--out", str(out), "--cache-dir", str(cache), *COMMON[:4]]) == 0
    )
    results = json.loads((out / "results.json").read_text())["results"]
    assert next(iter(results.values()))["synthetic-captions"]["retrieval"]["mean_recall"] >= 0


def test_the_ray_engine_embeds_a_bucket_dataset_into_the_bucket(s3, data_dir, tmp_path):
    caps, emb = f"s3://{s3.bucket}/ray-caps", f"s3://{s3.bucket}/ray-emb"
    pyarrow.fs.copy_files(str(data_dir / "caps"), caps)
    device = ["--model", "RS-Tiny", "--device", "cpu", "--loader-workers", "0", "-q", "--no-cache"]
    embed = ["embed", "--data", caps, "--split", "test", *device]
    assert main([*embed, "--out", emb, "--engine", "ray", "--workers", "1"]) == 0
    assert main([*embed, "--out", str(tmp_path / "local")]) == 0
    (ids, there), (want_ids, want) = (
        open_embeddings(emb).matrix(),
        open_embeddings(tmp_path / "local").matrix(),
    )
    assert ids == want_ids and np.abs(there - want).max() < 1e-5


def test_the_paper_suite_finds_its_datasets_under_a_bucket_prefix(s3, data_dir, tmp_path):
    root = f"s3://{s3.bucket}/paper"
    pyarrow.fs.copy_files(str(data_dir / "caps"), f"{root}/rsitmd")
    pyarrow.fs.copy_files(str(data_dir / "scenes"), f"{root}/WHU_RS19")  # case and punctuation ignored
    out = tmp_path / "paper"
    args = ["run", "--suite", "paper", "--data-root", root, "--out", str(out), *COMMON, "--no-cache"]
    assert main(args) == 0
    results = json.loads((out / "results.json").read_text())["results"]
    scored = next(iter(results.values()))
    assert set(scored) == {"RSITMD", "WHU-RS19"}
    assert set(scored["WHU-RS19"]) == {"zeroshot", "linear_probe", "fewshot", "knn"}
    assert (
        main([*args[:-1], "--data-root", f"s3://{s3.bucket}/nothing-here", "--out", str(tmp_path / "x")]) == 2
    )
