"""``rs-clip-eval embed`` / ``search``: embeddings as Parquet keyed by image id, the same from the local path and
from Ray Data actors on a local 2-node cluster, served to evaluations by the cache, searched exactly."""

import json

import numpy as np
import pytest

from rs_clip_eval import Embedder, EmbeddingCache, EvalConfig
from rs_clip_eval.archive import embed_dataset, search
from rs_clip_eval.cli import main
from rs_clip_models.models import load_spec
from rs_clip_models.spec import ModelSpec
from rs_formats import FormatError, open_dataset
from rs_formats import embeddings as embeddings_module
from rs_formats.embeddings import open_embeddings

CFG = EvalConfig(device="cpu", loader_workers=0, progress=False, batch_size=16)
SPLIT = "test"


@pytest.fixture(scope="module")
def cluster():
    from rs_formats.cluster import local_cluster

    with local_cluster(nodes=2) as two:
        yield two


@pytest.fixture(scope="module")
def local(data_dir, tmp_path_factory):
    """RS-Tiny's embeddings of the captions set, by the local engine, in row groups of 7 rows."""
    out = tmp_path_factory.mktemp("emb") / "local"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(embeddings_module, "ROW_GROUP_ROWS", 7)
        embed_dataset(ModelSpec.parse("RS-Tiny"), data_dir / "caps", SPLIT, out, CFG)
    return out


def test_local_embeddings_are_the_evaluation_embeddings_keyed_by_image_id(data_dir, local):
    ds = open_dataset(data_dir / "caps")
    emb = open_embeddings(local)
    ids, vectors = emb.matrix()
    assert ids == ds.read_table(SPLIT, ["image_id"]).column(0).to_pylist()
    expected = Embedder(ModelSpec.parse("RS-Tiny"), None, CFG).images(ds, SPLIT)
    np.testing.assert_array_equal(vectors, expected)
    assert emb.meta["dataset_sha256"] == ds.manifest_sha256() and emb.meta["split"] == SPLIT
    assert emb.meta["rows"] == 24 and emb.dim == vectors.shape[1] and len(list(emb.iter_batches())) == 4
    emb.verify()


def test_embeddings_are_the_same_on_a_two_node_ray_cluster(cluster, data_dir, local, tmp_path, monkeypatch):
    spec = ModelSpec.parse("RS-Tiny")
    cache = EmbeddingCache(tmp_path / "cache")
    embed_dataset(spec, data_dir / "caps", SPLIT, tmp_path / "ray", CFG, cache, engine="ray")
    ids, on_ray = open_embeddings(tmp_path / "ray").matrix()
    local_ids, expected = open_embeddings(local).matrix()
    assert ids == local_ids
    np.testing.assert_allclose(on_ray, expected, rtol=0, atol=2e-6)

    # The evaluation path is served what the cluster wrote: no model is loaded, no copy was made.
    monkeypatch.setattr(
        "rs_clip_models.models.load_spec", lambda *a, **k: pytest.fail("the model was loaded")
    )
    served = Embedder(spec, EmbeddingCache(tmp_path / "cache"), CFG).images(
        open_dataset(data_dir / "caps"), SPLIT
    )
    np.testing.assert_array_equal(served, on_ray)
    assert not list((tmp_path / "cache").rglob("*.npy"))


def test_search_equals_a_brute_force_ranking(local, tiny_checkpoint):
    from rs_clip_models.encoding import encode_texts

    spec = ModelSpec.parse("RS-Tiny")
    queries = ["two planes in the middle of the picture", "a ship", "many storage tanks"]
    got = search(local, spec, queries, k=5, device="cpu")
    model, _, tokenizer = load_spec(spec, "cpu")
    q = encode_texts(model, tokenizer, queries)
    ids, vectors = open_embeddings(local).matrix()
    for hits, scores in zip(got, q @ vectors.T):
        rows = np.lexsort((np.arange(len(ids)), -scores))[:5]  # best first, ties to the earlier row
        assert [h["row"] for h in hits] == rows.tolist()
        assert [h["image_id"] for h in hits] == [ids[r] for r in rows]
        np.testing.assert_allclose([h["score"] for h in hits], scores[rows], rtol=1e-6)
    with pytest.raises(FormatError, match="search with the model that embedded it"):
        search(local, ModelSpec.parse(str(tiny_checkpoint)), queries)


def test_embed_and_search_commands(data_dir, tmp_path, capsys):
    out = tmp_path / "emb"
    assert (
        main(
            [
                "embed",
                "--model",
                "RS-Tiny",
                "--data",
                str(data_dir / "caps"),
                "--split",
                SPLIT,
                "--out",
                str(out),
                "--device",
                "cpu",
                "--loader-workers",
                "0",
                "--no-cache",
                "-q",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out == f"{out}\n"
    assert (
        main(
            [
                "search",
                "--model",
                "RS-Tiny",
                "--embeddings",
                str(out),
                "--query",
                "a ship",
                "-k",
                "3",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    hits = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [h["rank"] for h in hits] == [1, 2, 3] and all(h["query"] == "a ship" for h in hits)
    assert (
        main(
            [
                "embed",
                "--model",
                "RS-Tiny",
                "--data",
                str(data_dir / "caps"),
                "--split",
                "nope",
                "--out",
                str(tmp_path / "x"),
                "--no-cache",
            ]
        )
        == 2
    )
    assert "has no split 'nope'" in capsys.readouterr().err and not (tmp_path / "x").exists()
