"""--model parsing, weights fingerprints and the embedding cache's keys."""

from __future__ import annotations

import shutil

import numpy as np
import torch

from rs_clip_eval import Embedder, EmbeddingCache, EvalConfig
from rs_clip_models.models import load_spec
from rs_clip_models.spec import ModelSpec
from rs_formats import open_dataset


def test_remoteclip_style_file_embeds_like_the_checkpoint(tiny_checkpoint, data_dir, tmp_path):
    from rs_clip_models.models import load_state_dict

    state = load_state_dict(tiny_checkpoint)
    released = tmp_path / "RemoteCLIP-RS-Tiny.pt"  # DDP prefixes inside a wrapper, as the released files
    torch.save({"state_dict": {"module." + k: v for k, v in state.items()}}, released)
    ds = open_dataset(data_dir / "scenes")
    cfg = EvalConfig(loader_workers=0, progress=False)
    a = Embedder(ModelSpec.parse(str(tiny_checkpoint)), EmbeddingCache(tmp_path / "c1"), cfg).images(
        ds, "test"
    )
    b = Embedder(ModelSpec.parse(f"RS-Tiny:{released}"), EmbeddingCache(tmp_path / "c2"), cfg).images(
        ds, "test"
    )
    c = Embedder(ModelSpec.parse("RS-Tiny"), EmbeddingCache(tmp_path / "c3"), cfg).images(ds, "test")
    assert a.shape == (16, 64) and np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    assert np.allclose(a, b, atol=1e-6)
    assert not np.allclose(a, c, atol=1e-3)


def test_random_init_is_reproducible_and_leaves_the_rng_alone():
    torch.manual_seed(5)
    before = torch.rand(1)
    torch.manual_seed(5)
    m1, _, _ = load_spec(ModelSpec.parse("RS-Tiny"))
    after = torch.rand(1)
    m2, _, _ = load_spec(ModelSpec.parse("RS-Tiny"))
    assert before == after
    assert all(torch.equal(p, q) for p, q in zip(m1.state_dict().values(), m2.state_dict().values()))


def test_fingerprint_follows_weights_not_paths(tiny_checkpoint, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_checkpoint, copy)
    a, b = ModelSpec.parse(str(tiny_checkpoint)), ModelSpec.parse(str(copy))
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != ModelSpec.parse("RS-Tiny").fingerprint()


def test_cache_hits_misses_and_keys(tiny_checkpoint, data_dir, tmp_path):
    cache = EmbeddingCache(tmp_path / "cache")
    ds = open_dataset(data_dir / "scenes")
    emb = Embedder(ModelSpec.parse(str(tiny_checkpoint)), cache, EvalConfig(loader_workers=0, progress=False))
    x = emb.images(ds, "test")
    assert (cache.hits, cache.misses) == (0, 1)
    assert emb._loaded is not None
    # A fresh embedder (new process, say) is served from disk without loading the model.
    emb2 = Embedder(
        ModelSpec.parse(str(tiny_checkpoint)), cache, EvalConfig(loader_workers=0, progress=False)
    )
    assert np.array_equal(emb2.images(ds, "test"), x) and emb2._loaded is None
    assert (cache.hits, cache.misses) == (1, 1)
    emb2.images(ds, "train")  # another split: a miss
    assert cache.misses == 2
    # Another dataset manifest (same images, other name) and other weights are other keys.
    k = cache.key("fp", ds.manifest_sha256(), "test", "images")
    assert k != cache.key("fp2", ds.manifest_sha256(), "test", "images")
    assert k != cache.key("fp", "0" * 64, "test", "images")
    assert k != cache.key("fp", ds.manifest_sha256(), "test", "images", precision="bf16")
    meta = next((tmp_path / "cache").rglob("*.json")).read_text()
    assert "scenes" in meta and "RS-Tiny" in meta
    # A damaged entry is recomputed, not trusted.
    for npy in (tmp_path / "cache").rglob("*.npy"):
        npy.write_bytes(b"garbage")
    emb3 = Embedder(
        ModelSpec.parse(str(tiny_checkpoint)), cache, EvalConfig(loader_workers=0, progress=False)
    )
    assert np.array_equal(emb3.images(ds, "test"), x) and cache.misses == 3


def test_texts_are_keyed_by_content(tmp_path, data_dir):
    cache = EmbeddingCache(tmp_path / "cache")
    ds = open_dataset(data_dir / "scenes")
    emb = Embedder(ModelSpec.parse("RS-Tiny"), cache, EvalConfig(loader_workers=0, progress=False))
    a = emb.texts(ds, "test", ["a satellite photo of plane."], "prompts")
    b = emb.texts(ds, "test", ["an aerial photo of ship."], "prompts")
    assert cache.misses == 2 and not np.allclose(a, b)
    emb.texts(ds, "test", ["a satellite photo of plane."], "prompts")
    assert cache.hits == 1
